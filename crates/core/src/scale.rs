//! A synthetic vendor at a chosen scale, for load tests and benchmarks: the same seed gives the
//! same products, features, customers, deals, commitments and request texts on every machine.
//!
//! The shape follows a Chinese medical-IT vendor (EMR, HIS, DRG/DIP, LIS, PACS…): a few features
//! collect most promises, most deals are won, delivered and accepted promises sit on built or
//! released features only, and accepted promises have every criterion met. `cunjin generate`
//! writes it to a database; the core benchmarks score it in memory.

use chrono::{Duration, NaiveDate};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::commitment::Status;
use crate::mode::{Health, Mode};
use crate::request::SourceRole;
use crate::stage::Stage;
use crate::values::{DealStage, Money};

/// How many of each record a generated vendor has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    /// Product lines.
    pub products: usize,
    /// Catalogue features.
    pub features: usize,
    /// Customers (hospitals).
    pub customers: usize,
    /// Deals; every customer has at least one while there are enough.
    pub deals: usize,
    /// Commitments (promises).
    pub commitments: usize,
    /// Requests in the inbox.
    pub requests: usize,
    /// Demo-environment probes.
    pub probes: usize,
}

impl Scale {
    /// The largest vendor of DESIGN.md.
    pub const LARGE: Scale = Scale {
        products: 20,
        features: 20_000,
        customers: 5_000,
        deals: 10_000,
        commitments: 200_000,
        requests: 1_000_000,
        probes: 2_000,
    };

    /// A vendor small enough for a laptop demo or a quick test.
    pub const SMALL: Scale = Scale {
        products: 5,
        features: 500,
        customers: 100,
        deals: 200,
        commitments: 2_000,
        requests: 10_000,
        probes: 50,
    };

    /// `small` or `large`.
    pub fn parse(s: &str) -> Result<Scale, crate::ParseError> {
        match s {
            "small" => Ok(Scale::SMALL),
            "large" => Ok(Scale::LARGE),
            _ => Err(crate::ParseError::one_of("scale", s, &["small", "large"])),
        }
    }
}

/// A product line.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductSpec {
    /// Its name, unique in the vendor.
    pub name: String,
}

/// A catalogue feature.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureSpec {
    /// Index into [`Vendor::products`].
    pub product: usize,
    /// Menu path, levels separated by `/`.
    pub menu_path: String,
    /// Title.
    pub title: String,
    /// Stage.
    pub stage: Stage,
    /// Effort estimate in person-days.
    pub effort_days: Option<f64>,
}

/// A customer.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerSpec {
    /// Its name, unique in the vendor.
    pub name: String,
    /// Its weight in the roadmap's demand.
    pub weight: f64,
}

/// A deal.
#[derive(Debug, Clone, PartialEq)]
pub struct DealSpec {
    /// Index into [`Vendor::customers`].
    pub customer: usize,
    /// Its name.
    pub name: String,
    /// Pipeline stage.
    pub stage: DealStage,
    /// Contract value.
    pub contract_value: Money,
    /// Acceptance (验收) date, if agreed.
    pub acceptance_date: Option<NaiveDate>,
    /// Whether it is a pilot (试点).
    pub pilot: bool,
}

/// A promise.
#[derive(Debug, Clone, PartialEq)]
pub struct CommitmentSpec {
    /// Index into [`Vendor::customers`].
    pub customer: usize,
    /// Index into [`Vendor::deals`], if made in a deal.
    pub deal: Option<usize>,
    /// Index into [`Vendor::features`].
    pub feature: usize,
    /// How it was shown.
    pub shown_as: Mode,
    /// Who promised it.
    pub promised_by: &'static str,
    /// When.
    pub promised_at: NaiveDate,
    /// Due date, if any.
    pub due: Option<NaiveDate>,
    /// Acceptance-critical (验收必须).
    pub critical: bool,
    /// Status.
    pub status: Status,
    /// Acceptance criteria: text and whether met.
    pub criteria: Vec<(String, bool)>,
}

impl CommitmentSpec {
    /// Criteria not met yet.
    pub fn unmet(&self) -> u32 {
        self.criteria.iter().filter(|(_, met)| !met).count() as u32
    }
}

/// Everything of a generated vendor but its requests, which [`RequestGenerator`] streams.
#[derive(Debug, Clone, PartialEq)]
pub struct Vendor {
    /// Product lines.
    pub products: Vec<ProductSpec>,
    /// Features.
    pub features: Vec<FeatureSpec>,
    /// Customers.
    pub customers: Vec<CustomerSpec>,
    /// Deals.
    pub deals: Vec<DealSpec>,
    /// Commitments.
    pub commitments: Vec<CommitmentSpec>,
}

const PRODUCTS: &[&str] = &[
    "电子病历 EMR",
    "医院信息系统 HIS",
    "DRG/DIP 智能管理",
    "临床决策支持 CDSS",
    "互联网医院",
    "实验室信息系统 LIS",
    "影像归档 PACS",
    "手术麻醉系统",
    "重症监护 ICU",
    "护理管理系统",
    "医院资源规划 HRP",
    "集成平台 ESB",
    "临床数据中心 CDR",
    "区域卫生平台",
    "医保智能审核",
    "体检管理系统",
    "药事管理系统",
    "院感监测系统",
    "移动医护 Mobile",
    "患者服务平台",
];

const MODULES: &[&str] = &[
    "门诊医生站",
    "住院医生站",
    "护士站",
    "移动护理",
    "电子病历",
    "病案首页",
    "医保结算",
    "DRG 分组",
    "DIP 分值",
    "排班管理",
    "检验 LIS",
    "检查 PACS",
    "药房",
    "收费处",
    "互联网医院",
    "预约挂号",
    "手术麻醉",
    "临床路径",
    "CDSS",
    "院感监测",
    "体检中心",
    "财务报表",
    "物资管理",
    "HRP 绩效",
];
const ASKS: &[&str] = &[
    "希望",
    "能否",
    "需要",
    "建议",
    "要求",
    "麻烦",
    "客户反馈",
    "院长要求",
    "实施现场提出",
    "科室主任希望",
];
const ACTIONS: &[&str] = &[
    "增加", "支持", "优化", "自动", "批量", "实时", "导出", "打印", "上传", "对接", "配置", "提醒",
];
const OBJECTS: &[&str] = &[
    "医保结算清单上传",
    "检验结果一键引用",
    "按周复制排班",
    "Excel 导出",
    "分组结果预警",
    "病历书写时限提醒",
    "结构化病历模板",
    "处方前置审核",
    "电子签名",
    "移动端查看",
    "消息推送",
    "病案首页质控规则",
    "费用明细核对",
    "医嘱闭环",
    "危急值上报",
    "护理评估量表",
    "体征录入",
    "报表自定义字段",
    "权限按科室分配",
    "历史数据迁移",
    "接口日志查询",
    "患者360视图",
    "科室绩效统计",
    "耗材扫码出库",
    "病历归档",
    "复诊续方",
    "电子处方流转",
    "智能导诊",
];
const TAILS: &[&str] = &[
    "",
    "",
    "",
    "，越快越好",
    "，验收前必须完成",
    "，和省平台保持一致",
    "，现在手工做太慢",
    "，参考某三甲医院的做法",
    "，支持按院区区分",
    "（急）",
];
const ENGLISH: &[&str] = &[
    "Export the DRG grouping report to Excel",
    "Allow nurses to copy the weekly schedule",
    "Show lab results inside the EMR editor",
    "Upload the medical insurance settlement list automatically",
    "Add an audit log for prescription reviews",
    "Support single sign-on with the hospital portal",
    "Let departments maintain their own record templates",
    "Send critical value alerts to the doctor's phone",
];
const CITIES: &[&str] = &[
    "北京",
    "上海",
    "广州",
    "深圳",
    "杭州",
    "南京",
    "苏州",
    "成都",
    "重庆",
    "武汉",
    "西安",
    "长沙",
    "郑州",
    "济南",
    "青岛",
    "沈阳",
    "大连",
    "哈尔滨",
    "长春",
    "天津",
    "石家庄",
    "太原",
    "合肥",
    "福州",
    "厦门",
    "南昌",
    "南宁",
    "昆明",
    "贵阳",
    "兰州",
    "银川",
    "西宁",
    "乌鲁木齐",
    "呼和浩特",
    "拉萨",
    "海口",
    "宁波",
    "温州",
    "无锡",
    "常州",
    "徐州",
    "扬州",
    "佛山",
    "东莞",
    "珠海",
    "惠州",
    "洛阳",
    "襄阳",
    "宜昌",
    "绵阳",
];
const HOSPITAL_KINDS: &[&str] = &[
    "第一人民医院",
    "第二人民医院",
    "中心医院",
    "中医院",
    "妇幼保健院",
    "儿童医院",
    "肿瘤医院",
    "口腔医院",
    "传染病医院",
    "精神卫生中心",
    "医科大学附属医院",
    "骨科医院",
];
const CAMPUSES: &[&str] = &[
    "",
    "（东院区）",
    "（西院区）",
    "（南院区）",
    "（北院区）",
    "（新院区）",
    "（分院）",
    "（老院区）",
    "（国际部）",
    "（第二院区）",
];
const PEOPLE: &[&str] = &[
    "张伟",
    "王芳",
    "李娜",
    "刘洋",
    "陈静",
    "杨磊",
    "赵敏",
    "黄强",
    "周杰",
    "吴霞",
    "Alice Chen",
    "Kevin Li",
];
const CRITERIA: &[&str] = &[
    "在测试环境演示通过",
    "科室主任签字确认",
    "三个病区试运行两周无重大问题",
    "与省医保平台联调成功",
    "数据迁移核对无差异",
    "响应时间不超过 2 秒",
    "通过信息科安全检查",
    "操作手册交付并完成培训",
    "Passes the hospital's UAT script",
    "Works on the ward PDAs",
];

fn pick<'a, R: Rng>(rng: &mut R, xs: &[&'a str]) -> &'a str {
    xs[rng.random_range(0..xs.len())]
}

/// One weighted choice: `weights` are relative, not necessarily summing to 100.
fn weighted<T: Copy, R: Rng>(rng: &mut R, choices: &[(T, u32)]) -> T {
    let total: u32 = choices.iter().map(|c| c.1).sum();
    let mut x = rng.random_range(0..total.max(1));
    for &(v, w) in choices {
        if x < w {
            return v;
        }
        x -= w;
    }
    choices[choices.len() - 1].0
}

/// Generates the vendor of `scale` from `seed`, with dates relative to `today`.
pub fn vendor(scale: &Scale, seed: u64, today: NaiveDate) -> Vendor {
    let mut rng = StdRng::seed_from_u64(seed);
    let products: Vec<ProductSpec> = (0..scale.products)
        .map(|i| ProductSpec {
            name: match PRODUCTS.get(i) {
                Some(n) => n.to_string(),
                None => format!(
                    "{} {}",
                    PRODUCTS[i % PRODUCTS.len()],
                    i / PRODUCTS.len() + 1
                ),
            },
        })
        .collect();

    let features: Vec<FeatureSpec> = (0..scale.features)
        .map(|i| {
            let module = pick(&mut rng, MODULES);
            let object = pick(&mut rng, OBJECTS);
            let action = pick(&mut rng, ACTIONS);
            let stage = weighted(
                &mut rng,
                &[
                    (Stage::Idea, 10),
                    (Stage::Designed, 20),
                    (Stage::Stubbed, 15),
                    (Stage::Built, 20),
                    (Stage::Released, 35),
                ],
            );
            FeatureSpec {
                product: i % scale.products.max(1),
                menu_path: format!("{module}/{object}/{action}"),
                title: format!("{module}{action}{object}（{}）", i + 1),
                stage,
                effort_days: rng
                    .random_ratio(9, 10)
                    .then(|| f64::from(rng.random_range(1..=60u32))),
            }
        })
        .collect();

    // Every (city, kind, campus) combination once, in a seeded order: names stay unique.
    let combos = CITIES.len() * HOSPITAL_KINDS.len() * CAMPUSES.len();
    let mut order: Vec<usize> = (0..combos).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.random_range(0..=i));
    }
    let customers: Vec<CustomerSpec> = (0..scale.customers)
        .map(|i| {
            let k = order[i % combos];
            let city = CITIES[k % CITIES.len()];
            let kind = HOSPITAL_KINDS[(k / CITIES.len()) % HOSPITAL_KINDS.len()];
            let campus = CAMPUSES[k / (CITIES.len() * HOSPITAL_KINDS.len())];
            let round = i / combos;
            let name = if round == 0 {
                format!("{city}市{kind}{campus}")
            } else {
                format!("{city}市{kind}{campus} {}", round + 1)
            };
            CustomerSpec {
                name,
                weight: weighted(&mut rng, &[(1.0, 80), (2.0, 10), (0.5, 10)]),
            }
        })
        .collect();

    let deals: Vec<DealSpec> = (0..scale.deals)
        .map(|i| {
            let customer = if i < scale.customers {
                i
            } else {
                rng.random_range(0..scale.customers.max(1))
            };
            let stage = weighted(
                &mut rng,
                &[
                    (DealStage::Won, 50),
                    (DealStage::Negotiation, 15),
                    (DealStage::Proposal, 15),
                    (DealStage::Qualified, 10),
                    (DealStage::Lead, 5),
                    (DealStage::Lost, 5),
                ],
            );
            let product = pick(&mut rng, PRODUCTS);
            let phase = pick(
                &mut rng,
                &["一期", "二期", "升级改造", "互联互通评级", "信创替换"],
            );
            let year = 2024 + rng.random_range(0..3);
            DealSpec {
                customer,
                name: format!("{year} 年{product}{phase}项目"),
                stage,
                contract_value: Money::from_cents(
                    i64::from(rng.random_range(20u32..800)) * 10_000 * 100,
                ),
                acceptance_date: (stage == DealStage::Won || rng.random_ratio(1, 3))
                    .then(|| today + Duration::days(rng.random_range(-180..540))),
                pilot: rng.random_ratio(1, 20),
            }
        })
        .collect();

    let commitments: Vec<CommitmentSpec> = (0..scale.commitments)
        .map(|_| {
            let (customer, deal) = if rng.random_ratio(9, 10) && !deals.is_empty() {
                let d = rng.random_range(0..deals.len());
                (deals[d].customer, Some(d))
            } else {
                (rng.random_range(0..scale.customers.max(1)), None)
            };
            // Skewed: u² puts most promises on the first features, as a few flagship features
            // are promised everywhere.
            let u: f64 = rng.random();
            let feature = ((u * u) * features.len() as f64) as usize % features.len().max(1);
            let stage = features[feature].stage;
            let works = matches!(stage, Stage::Built | Stage::Released);
            let status = if works {
                weighted(
                    &mut rng,
                    &[
                        (Status::Open, 45),
                        (Status::Delivered, 25),
                        (Status::Accepted, 25),
                        (Status::Waived, 5),
                    ],
                )
            } else {
                weighted(&mut rng, &[(Status::Open, 95), (Status::Waived, 5)])
            };
            let shown_as = if rng.random_ratio(1, 10) {
                Mode::Promise
            } else {
                Mode::for_feature(stage, Health::Up)
            };
            let n = rng.random_range(0..=4usize);
            let criteria = (0..n)
                .map(|_| {
                    let met = match status {
                        Status::Accepted => true,
                        Status::Delivered => rng.random_ratio(1, 2),
                        _ => rng.random_ratio(1, 10),
                    };
                    (pick(&mut rng, CRITERIA).to_string(), met)
                })
                .collect();
            CommitmentSpec {
                customer,
                deal,
                feature,
                shown_as,
                promised_by: pick(&mut rng, PEOPLE),
                promised_at: today - Duration::days(rng.random_range(0..720)),
                due: rng
                    .random_ratio(7, 10)
                    .then(|| today + Duration::days(rng.random_range(-60..365))),
                critical: rng.random_ratio(3, 10),
                status,
                criteria,
            }
        })
        .collect();

    Vendor {
        products,
        features,
        customers,
        deals,
        commitments,
    }
}

/// A generated request.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestSpec {
    /// Text, Chinese (nine in ten) or English.
    pub text: String,
    /// Who brought it in.
    pub source_role: SourceRole,
    /// Index into [`Vendor::customers`], for seven in ten.
    pub customer: Option<usize>,
    /// Index into [`Vendor::features`] for the one in twenty already accepted onto a feature.
    pub feature: Option<usize>,
}

/// Streams requests for a vendor, from its own seed so that their number does not change the
/// rest of the vendor.
pub struct RequestGenerator {
    rng: StdRng,
    customers: usize,
    features: usize,
}

impl RequestGenerator {
    /// Requests for a vendor with `customers` customers and `features` features.
    pub fn new(seed: u64, customers: usize, features: usize) -> RequestGenerator {
        RequestGenerator {
            rng: StdRng::seed_from_u64(seed ^ 0x0005_eed0_f4e9),
            customers,
            features,
        }
    }

    /// The next request.
    pub fn next_request(&mut self) -> RequestSpec {
        let text = request_text(&mut self.rng);
        let rng = &mut self.rng;
        let source_role = SourceRole::ALL[rng.random_range(0..SourceRole::ALL.len())];
        let customer = (self.customers > 0 && rng.random_ratio(7, 10))
            .then(|| rng.random_range(0..self.customers));
        let feature = (self.features > 0 && rng.random_ratio(1, 20))
            .then(|| rng.random_range(0..self.features));
        RequestSpec {
            text,
            source_role,
            customer,
            feature,
        }
    }
}

/// One request text: a Chinese sentence of ask + module + action + object + tail, or (one in
/// ten) an English one with a ward number.
pub fn request_text<R: Rng>(rng: &mut R) -> String {
    if rng.random_ratio(1, 10) {
        let base = pick(rng, ENGLISH);
        return format!("{base} for ward {}", rng.random_range(1..400));
    }
    format!(
        "{}{}{}{}{}",
        pick(rng, ASKS),
        pick(rng, MODULES),
        pick(rng, ACTIONS),
        pick(rng, OBJECTS),
        pick(rng, TAILS)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
    }

    #[test]
    fn the_same_seed_gives_the_same_vendor_and_another_seed_another() {
        let a = vendor(&Scale::SMALL, 7, today());
        assert_eq!(a, vendor(&Scale::SMALL, 7, today()));
        assert_ne!(a.commitments, vendor(&Scale::SMALL, 8, today()).commitments);
        let mut r1 = RequestGenerator::new(7, 100, 500);
        let mut r2 = RequestGenerator::new(7, 100, 500);
        for _ in 0..100 {
            assert_eq!(r1.next_request(), r2.next_request());
        }
    }

    #[test]
    fn counts_names_and_rules_hold() {
        let s = Scale::SMALL;
        let v = vendor(&s, 1, today());
        assert_eq!(v.products.len(), s.products);
        assert_eq!(v.features.len(), s.features);
        assert_eq!(v.customers.len(), s.customers);
        assert_eq!(v.deals.len(), s.deals);
        assert_eq!(v.commitments.len(), s.commitments);
        let names: std::collections::HashSet<_> = v.customers.iter().map(|c| &c.name).collect();
        assert_eq!(names.len(), s.customers, "customer names are unique");
        // Every customer has a deal.
        for c in 0..s.customers {
            assert!(v.deals.iter().any(|d| d.customer == c));
        }
        for f in &v.features {
            assert!(
                crate::MenuPath::parse(&f.menu_path).is_ok(),
                "{}",
                f.menu_path
            );
        }
        for c in &v.commitments {
            if let Some(d) = c.deal {
                assert_eq!(v.deals[d].customer, c.customer);
            }
            let stage = v.features[c.feature].stage;
            if matches!(c.status, Status::Delivered | Status::Accepted) {
                assert!(matches!(stage, Stage::Built | Stage::Released));
            }
            if c.status == Status::Accepted {
                assert_eq!(c.unmet(), 0);
            }
        }
        // Every status and stage occurs.
        for st in Status::ALL {
            assert!(v.commitments.iter().any(|c| c.status == st), "{st:?}");
        }
        for st in Stage::ALL {
            assert!(v.features.iter().any(|f| f.stage == st), "{st:?}");
        }
    }

    #[test]
    fn large_customer_names_stay_unique() {
        let s = Scale {
            commitments: 0,
            ..Scale::LARGE
        };
        let v = vendor(&s, 3, today());
        let names: std::collections::HashSet<_> = v.customers.iter().map(|c| &c.name).collect();
        assert_eq!(names.len(), 5_000);
    }

    #[test]
    fn requests_mix_chinese_and_english() {
        let mut g = RequestGenerator::new(1, 10, 10);
        let texts: Vec<String> = (0..1000).map(|_| g.next_request().text).collect();
        let english = texts.iter().filter(|t| t.is_ascii()).count();
        assert!((50..200).contains(&english), "{english} English of 1000");
    }
}
