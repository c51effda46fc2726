//! The progress chart, drawn on the server as inline SVG: no JavaScript, no CDN, readable in any
//! browser and in print.

use chrono::Datelike;
use cunjin_store::ledger::progress::GapPoint;

use crate::i18n::Lang;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 28.0;

/// Escapes text placed in the SVG.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The smallest of 1, 2, 2.5, 5 × 10ⁿ at or above `x` (2.5 only from 25 up, to stay whole), so
/// that the axis reads in round numbers and quarters.
fn nice_ceiling(x: u64) -> u64 {
    let mut step: u64 = 1;
    loop {
        for tenths in [10, 20, 25, 50] {
            let v = step * tenths / 10;
            if (tenths != 25 || step >= 10) && v >= x {
                return v;
            }
        }
        step = step.saturating_mul(10);
    }
}

/// A line chart of 尺 and 寸 per day; empty when there is nothing to draw.
pub fn gap_chart(l: Lang, points: &[GapPoint]) -> String {
    if points.is_empty() {
        return String::new();
    }
    let top = nice_ceiling(
        points
            .iter()
            .map(|p| p.chi.max(p.cun))
            .max()
            .unwrap_or(0)
            .max(1),
    );
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let step = if points.len() > 1 {
        plot_w / (points.len() - 1) as f64
    } else {
        0.0
    };
    let x = |i: usize| LEFT + step * i as f64;
    let y = |v: u64| TOP + plot_h - plot_h * v as f64 / top as f64;
    let line = |pick: fn(&GapPoint) -> u64| {
        points
            .iter()
            .enumerate()
            .map(|(i, p)| format!("{:.1},{:.1}", x(i), y(pick(p))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut svg = format!(
        "<svg class=\"chart\" id=\"gap-chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"{label}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{label}</title>",
        label = esc(l.t("progress.chart_label"))
    );
    for k in 0..=4u64 {
        let v = top * k / 4;
        let yy = y(v);
        svg.push_str(&format!(
            "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" class=\"grid\"/><text x=\"{:.1}\" y=\"{:.1}\" class=\"axis\" text-anchor=\"end\">{v}</text>",
            WIDTH - RIGHT,
            LEFT - 6.0,
            yy + 4.0
        ));
    }
    for (i, p) in points.iter().enumerate() {
        if p.day.weekday() == chrono::Weekday::Mon {
            svg.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{:.1}\" class=\"axis\" text-anchor=\"middle\">{}</text>",
                x(i),
                HEIGHT - 8.0,
                p.day.format("%m-%d")
            ));
        }
    }
    svg.push_str(&format!(
        "<polyline class=\"line-chi\" fill=\"none\" points=\"{}\"/><polyline class=\"line-cun\" fill=\"none\" points=\"{}\"/>",
        line(|p| p.chi),
        line(|p| p.cun)
    ));
    if let Some(last) = points.last() {
        let i = points.len() - 1;
        svg.push_str(&format!(
            "<circle class=\"dot-chi\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\"/><circle class=\"dot-cun\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\"/>",
            x(i),
            y(last.chi),
            x(i),
            y(last.cun)
        ));
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_are_round_and_lines_are_drawn() {
        assert_eq!(nice_ceiling(1), 1);
        assert_eq!(nice_ceiling(3), 5);
        assert_eq!(nice_ceiling(37), 50);
        assert_eq!(nice_ceiling(22), 25);
        assert_eq!(nice_ceiling(101), 200);
        assert_eq!(nice_ceiling(210), 250);
        assert_eq!(nice_ceiling(2), 2);
        let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let pts = [
            GapPoint {
                day,
                chi: 40,
                cun: 20,
            },
            GapPoint {
                day: day.succ_opt().unwrap(),
                chi: 30,
                cun: 25,
            },
        ];
        let svg = gap_chart(Lang::Zh, &pts);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("class=\"line-chi\"") && svg.contains("class=\"line-cun\""));
        assert!(svg.contains(">11-23<"), "Mondays are labelled: {svg}");
        assert!(gap_chart(Lang::En, &[]).is_empty());
    }
}
