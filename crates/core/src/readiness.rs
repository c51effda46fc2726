//! Demo readiness: from the script of a demo and the latest probe results, the talk track —
//! per scripted item the presentation mode and what to know about it — its readiness share and
//! whether the demo is ready.
//!
//! Demo data: a failed demo-data probe (e.g. "patient 张三 exists") means a feature that works
//! cannot be shown live on that data, so every built or released item that would have been
//! `live` becomes `fallback`, with a note naming the missing data; `unverified` items get the
//! same note. Menu, slide and word items do not depend on the data and are left alone.

use serde::Serialize;

use crate::mode::{Health, Mode};
use crate::probe::ProbeFailure;
use crate::stage::Stage;

/// The latest result of one probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeOutcome {
    /// How the probe is named in notes: `GET /api/emr/templates`.
    pub label: String,
    /// `None` when it passed.
    pub failure: Option<ProbeFailure>,
}

/// A catalogue feature as the talk track needs it.
#[derive(Debug, Clone)]
pub struct FeatureFacts {
    /// Title.
    pub title: String,
    /// Stage.
    pub stage: Stage,
    /// Recording to fall back on.
    pub recording_url: Option<String>,
    /// Slide to present it with.
    pub slide_url: Option<String>,
    /// Planned release.
    pub target_release: Option<String>,
    /// Latest results of the probes tied to it in the demo's environment.
    pub probes: Vec<ProbeOutcome>,
}

/// One scripted item of a demo.
#[derive(Debug, Clone)]
pub enum ScriptSubject {
    /// A catalogue feature.
    Feature(FeatureFacts),
    /// Free text, not in the catalogue.
    Text(String),
}

/// A scripted item with its must-show flag.
#[derive(Debug, Clone)]
pub struct ScriptLine {
    /// What is to be shown.
    pub subject: ScriptSubject,
    /// The customer expects to see it.
    pub must_show: bool,
}

/// Something the presenter should know about an item, in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Note {
    /// A probe tied to the feature failed.
    ProbeFailed {
        /// The probe.
        probe: String,
        /// How.
        failure: ProbeFailure,
    },
    /// A demo-data probe failed.
    DataMissing {
        /// The data set, e.g. `患者张三`.
        dataset: String,
        /// How.
        failure: ProbeFailure,
    },
    /// No probe checks the feature.
    NoProbe,
    /// Use this recording.
    UseRecording {
        /// Link.
        url: String,
    },
    /// Nothing to fall back on.
    NoRecording,
    /// Present with this slide.
    UseSlide {
        /// Link.
        url: String,
    },
    /// No slide attached.
    NoSlide,
    /// Planned for this release.
    PlannedRelease {
        /// Version.
        release: String,
    },
    /// Not planned in any release.
    NotPlanned,
}

impl Note {
    /// The note in English.
    pub fn en(&self) -> String {
        match self {
            Note::ProbeFailed { probe, failure } => {
                format!("probe {probe} failed: {}", failure.en())
            }
            Note::DataMissing { dataset, failure } => {
                format!("demo data missing: {dataset} ({})", failure.en())
            }
            Note::NoProbe => "no probe checks it: try it in the environment before the demo".into(),
            Note::UseRecording { url } => format!("use the recording: {url}"),
            Note::NoRecording => "no recording attached: fix the environment or skip it".into(),
            Note::UseSlide { url } => format!("slide: {url}"),
            Note::NoSlide => "no slide attached".into(),
            Note::PlannedRelease { release } => format!("planned release: {release}"),
            Note::NotPlanned => "not planned in any release: do not commit to a date".into(),
        }
    }

    /// The note in Chinese.
    pub fn zh(&self) -> String {
        match self {
            Note::ProbeFailed { probe, failure } => {
                format!("探针 {probe} 失败：{}", failure.zh())
            }
            Note::DataMissing { dataset, failure } => {
                format!("演示数据缺失：{dataset}（{}）", failure.zh())
            }
            Note::NoProbe => "没有探针检查此功能：演示前请在环境里亲自试一遍".into(),
            Note::UseRecording { url } => format!("使用录屏：{url}"),
            Note::NoRecording => "没有录屏：修复环境或跳过".into(),
            Note::UseSlide { url } => format!("幻灯片：{url}"),
            Note::NoSlide => "没有幻灯片".into(),
            Note::PlannedRelease { release } => format!("计划版本：{release}"),
            Note::NotPlanned => "尚无计划版本：不要承诺日期".into(),
        }
    }
}

/// The talk track of one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackLine {
    /// How to present it.
    pub mode: Mode,
    /// What to know.
    pub notes: Vec<Note>,
    /// Whether this item is fine for a ready demo (only meaningful for must-show items):
    /// live, or fallback with a recording.
    pub covered: bool,
}

/// The talk track of a whole demo.
#[derive(Debug, Clone, PartialEq)]
pub struct TalkTrack {
    /// One line per scripted item, in script order.
    pub lines: Vec<TrackLine>,
    /// Share of items shown live, 0.0–1.0 (0.0 for an empty script).
    pub readiness: f64,
    /// Every must-show item is live, or fallback with a recording.
    pub ready: bool,
    /// What the demo can be, in one word: the readiness share alone misleads when a demo is
    /// ready only because recordings cover an environment that is down.
    pub verdict: Verdict,
}

/// Whether a demo can go ahead, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Every must-show item (every item, when none is marked) can be shown live.
    Live,
    /// Ready, but some must-show item only by its recording: the environment will not carry it.
    RecordingsOnly,
    /// A must-show item can be shown neither live nor by a recording.
    NotReady,
}

impl Verdict {
    /// The contract name.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Live => "live",
            Verdict::RecordingsOnly => "recordings_only",
            Verdict::NotReady => "not_ready",
        }
    }

    /// In Chinese, as the demo page and `cunjin check` say it.
    pub fn zh(self) -> &'static str {
        match self {
            Verdict::Live => "可以现场演示",
            Verdict::RecordingsOnly => "只能用录屏",
            Verdict::NotReady => "尚未就绪",
        }
    }

    /// In English.
    pub fn en(self) -> &'static str {
        match self {
            Verdict::Live => "Ready to show live",
            Verdict::RecordingsOnly => "Recordings only",
            Verdict::NotReady => "Not ready",
        }
    }
}

/// The health of a feature from the latest results of its probes (DESIGN.md).
pub fn health(probes: &[ProbeOutcome]) -> Health {
    if probes.is_empty() {
        Health::Unverified
    } else if probes.iter().any(|p| p.failure.is_some()) {
        Health::Down
    } else {
        Health::Up
    }
}

/// The talk track for `script` given the latest results of the environment's demo-data probes
/// (`datasets`: data set name and outcome).
pub fn talk_track(script: &[ScriptLine], datasets: &[(String, ProbeOutcome)]) -> TalkTrack {
    let missing: Vec<Note> = datasets
        .iter()
        .filter_map(|(name, o)| {
            o.failure.as_ref().map(|f| Note::DataMissing {
                dataset: name.clone(),
                failure: f.clone(),
            })
        })
        .collect();
    let lines: Vec<TrackLine> = script.iter().map(|l| line(l, &missing)).collect();
    let live = lines.iter().filter(|l| l.mode == Mode::Live).count();
    let readiness = if lines.is_empty() {
        0.0
    } else {
        live as f64 / lines.len() as f64
    };
    let ready = script
        .iter()
        .zip(&lines)
        .all(|(s, l)| !s.must_show || l.covered);
    let any_must = script.iter().any(|s| s.must_show);
    let all_live = script
        .iter()
        .zip(&lines)
        .filter(|(s, _)| s.must_show || !any_must)
        .all(|(_, l)| l.mode == Mode::Live);
    let verdict = match (ready, all_live) {
        (false, _) => Verdict::NotReady,
        (true, true) => Verdict::Live,
        (true, false) => Verdict::RecordingsOnly,
    };
    TalkTrack {
        verdict,
        lines,
        readiness,
        ready,
    }
}

fn line(l: &ScriptLine, missing_data: &[Note]) -> TrackLine {
    let f = match &l.subject {
        ScriptSubject::Text(_) => {
            return TrackLine {
                mode: Mode::Promise,
                notes: vec![Note::NotPlanned],
                covered: false,
            }
        }
        ScriptSubject::Feature(f) => f,
    };
    let mut notes = Vec::new();
    let mut mode = Mode::for_feature(f.stage, health(&f.probes));
    if f.stage.works() {
        for p in &f.probes {
            if let Some(failure) = &p.failure {
                notes.push(Note::ProbeFailed {
                    probe: p.label.clone(),
                    failure: failure.clone(),
                });
            }
        }
        if mode == Mode::Unverified {
            notes.push(Note::NoProbe);
        }
        if !missing_data.is_empty() && mode != Mode::Fallback {
            notes.extend(missing_data.iter().cloned());
            if mode == Mode::Live {
                mode = Mode::Fallback;
            }
        } else if mode == Mode::Fallback {
            notes.extend(missing_data.iter().cloned());
        }
        if mode == Mode::Fallback {
            notes.push(match &f.recording_url {
                Some(url) => Note::UseRecording { url: url.clone() },
                None => Note::NoRecording,
            });
        }
    } else {
        if mode == Mode::Slides {
            notes.push(match &f.slide_url {
                Some(url) => Note::UseSlide { url: url.clone() },
                None => Note::NoSlide,
            });
        }
        notes.push(match &f.target_release {
            Some(r) => Note::PlannedRelease { release: r.clone() },
            None => Note::NotPlanned,
        });
    }
    let covered = mode == Mode::Live || (mode == Mode::Fallback && f.recording_url.is_some());
    TrackLine {
        mode,
        notes,
        covered,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ok(label: &str) -> ProbeOutcome {
        ProbeOutcome {
            label: label.into(),
            failure: None,
        }
    }

    fn failed(label: &str) -> ProbeOutcome {
        ProbeOutcome {
            label: label.into(),
            failure: Some(ProbeFailure::Status {
                expected: 200,
                got: 500,
            }),
        }
    }

    fn feature(stage: Stage, probes: Vec<ProbeOutcome>, recording: bool) -> ScriptSubject {
        ScriptSubject::Feature(FeatureFacts {
            title: "结构化模板".into(),
            stage,
            recording_url: recording.then(|| "https://rec/1.mp4".into()),
            slide_url: Some("https://slides/1".into()),
            target_release: Some("V5.2".into()),
            probes,
        })
    }

    fn must(subject: ScriptSubject) -> ScriptLine {
        ScriptLine {
            subject,
            must_show: true,
        }
    }

    #[test]
    fn modes_follow_design_md() {
        let script = vec![
            must(feature(Stage::Built, vec![ok("GET /a")], false)),
            must(feature(
                Stage::Released,
                vec![ok("GET /a"), failed("GET /b")],
                true,
            )),
            ScriptLine {
                subject: feature(Stage::Built, vec![], false),
                must_show: false,
            },
            ScriptLine {
                subject: feature(Stage::Stubbed, vec![], false),
                must_show: false,
            },
            ScriptLine {
                subject: feature(Stage::Designed, vec![], false),
                must_show: false,
            },
            ScriptLine {
                subject: ScriptSubject::Text("全院一张床".into()),
                must_show: false,
            },
        ];
        let t = talk_track(&script, &[]);
        let modes: Vec<Mode> = t.lines.iter().map(|l| l.mode).collect();
        assert_eq!(
            modes,
            [
                Mode::Live,
                Mode::Fallback,
                Mode::Unverified,
                Mode::Menu,
                Mode::Slides,
                Mode::Promise
            ]
        );
        assert!(t.ready, "the fallback must-show item has a recording");
        assert_eq!(
            t.verdict,
            Verdict::RecordingsOnly,
            "ready only by the recording"
        );
        assert!((t.readiness - 1.0 / 6.0).abs() < 1e-9);
        let fallback = &t.lines[1].notes;
        assert!(fallback[0].en().contains("GET /b") && fallback[0].en().contains("500"));
        assert_eq!(
            fallback[1],
            Note::UseRecording {
                url: "https://rec/1.mp4".into()
            }
        );
        assert_eq!(t.lines[2].notes, [Note::NoProbe]);
        assert_eq!(
            t.lines[4].notes[0],
            Note::UseSlide {
                url: "https://slides/1".into()
            }
        );
        assert!(t.lines[4].notes[1].zh().contains("V5.2"));
    }

    #[test]
    fn a_must_show_fallback_without_recording_is_not_ready() {
        let t = talk_track(
            &[must(feature(Stage::Built, vec![failed("GET /x")], false))],
            &[],
        );
        assert_eq!(t.lines[0].mode, Mode::Fallback);
        assert!(t.lines[0].notes.contains(&Note::NoRecording));
        assert!(!t.ready);
        let t = talk_track(&[must(feature(Stage::Built, vec![], true))], &[]);
        assert!(!t.ready, "unverified is not ready");
        let t = talk_track(&[must(ScriptSubject::Text("x".into()))], &[]);
        assert!(!t.ready, "a bare promise cannot be must-show and ready");
    }

    #[test]
    fn missing_demo_data_turns_live_into_fallback() {
        let data = vec![("患者张三".to_string(), failed("GET /patients?name=张三"))];
        let t = talk_track(
            &[
                must(feature(Stage::Built, vec![ok("GET /a")], true)),
                must(feature(Stage::Stubbed, vec![], false)),
            ],
            &data,
        );
        assert_eq!(t.lines[0].mode, Mode::Fallback);
        assert!(t.lines[0].notes[0].zh().contains("演示数据缺失：患者张三"));
        assert_eq!(
            t.lines[1].mode,
            Mode::Menu,
            "the menu does not need the data"
        );
        assert_eq!(t.readiness, 0.0);
        let ok_data = vec![("患者张三".to_string(), ok("GET /p"))];
        let t = talk_track(
            &[must(feature(Stage::Built, vec![ok("GET /a")], false))],
            &ok_data,
        );
        assert_eq!(t.lines[0].mode, Mode::Live);
        assert!(t.ready);
        assert_eq!(t.readiness, 1.0);
        assert_eq!(t.verdict, Verdict::Live);
        assert_eq!(t.verdict.zh(), "可以现场演示");
    }

    #[test]
    fn an_environment_that_is_down_leaves_only_the_recordings() {
        // Down, with a recording: ready, but not to be shown live; the readiness share is 0.
        let t = talk_track(
            &[must(feature(Stage::Built, vec![failed("GET /a")], true))],
            &[],
        );
        assert!(t.ready);
        assert_eq!(t.readiness, 0.0);
        assert_eq!(t.verdict, Verdict::RecordingsOnly);
        assert_eq!(t.verdict.zh(), "只能用录屏");
        assert_eq!(t.verdict.en(), "Recordings only");
    }

    fn arb_line() -> impl Strategy<Value = ScriptLine> {
        let stage = prop::sample::select(Stage::ALL.to_vec());
        let probes = prop::collection::vec(any::<bool>(), 0..3);
        (stage, probes, any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
            |(stage, probes, rec, text, must_show)| ScriptLine {
                subject: if text {
                    ScriptSubject::Text("t".into())
                } else {
                    feature(
                        stage,
                        probes
                            .into_iter()
                            .map(|p| if p { ok("GET /") } else { failed("GET /") })
                            .collect(),
                        rec,
                    )
                },
                must_show,
            },
        )
    }

    proptest! {
        #[test]
        fn readiness_is_a_share_and_ready_means_every_must_show_is_covered(
            script in prop::collection::vec(arb_line(), 0..12),
            data_ok in prop::collection::vec(any::<bool>(), 0..3),
        ) {
            let data: Vec<(String, ProbeOutcome)> = data_ok.iter().enumerate()
                .map(|(i, ok_)| (format!("d{i}"), if *ok_ { ok("GET /d") } else { failed("GET /d") }))
                .collect();
            let t = talk_track(&script, &data);
            prop_assert_eq!(t.lines.len(), script.len());
            prop_assert!((0.0..=1.0).contains(&t.readiness));
            let live = t.lines.iter().filter(|l| l.mode == Mode::Live).count();
            if !script.is_empty() {
                prop_assert!((t.readiness * script.len() as f64 - live as f64).abs() < 1e-9);
            }
            let must_ok = script.iter().zip(&t.lines).all(|(s, l)| !s.must_show
                || l.mode == Mode::Live
                || (l.mode == Mode::Fallback && matches!(&s.subject, ScriptSubject::Feature(f) if f.recording_url.is_some())));
            prop_assert_eq!(t.ready, must_ok);
            // The verdict never says more than the items allow.
            prop_assert_eq!(t.verdict == Verdict::NotReady, !t.ready);
            if t.verdict == Verdict::Live {
                let any_must = script.iter().any(|s| s.must_show);
                prop_assert!(script.iter().zip(&t.lines)
                    .all(|(s, l)| l.mode == Mode::Live || (any_must && !s.must_show)));
            }
            if data_ok.iter().any(|d| !d) {
                prop_assert_eq!(live, 0, "no item is live on missing demo data");
            }
            for (s, l) in script.iter().zip(&t.lines) {
                if let ScriptSubject::Text(_) = s.subject {
                    prop_assert_eq!(l.mode, Mode::Promise);
                }
            }
        }
    }
}
