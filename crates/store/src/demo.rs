//! The sample workspace of `cunjin serve --demo`.
//!
//! An invented Chinese medical-IT vendor: five product lines, about sixty features at every
//! stage, twelve hospitals with their deals, and about sixty promises made in sales demos, shown
//! in every presentation mode. Some of those promises have since moved on (delivered, criteria
//! met, signed off, waived) so that the demo shows a gap that is closing inch by inch.
//!
//! The seed is deterministic: every date is an offset from the `today` it is given, and it goes
//! through the public methods of [`Store`] only, so it lands in the audit trail like any user's
//! work.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use cunjin_core::{DealStage, Gap, MenuPath, Mode, Money, Stage, Status};
use serde::Serialize;

use crate::delivery::releases::NewRelease;
use crate::ledger::catalogue::{FeatureChange, FeatureFilter, NewFeature};
use crate::ledger::commitments::{FeatureRef, NewCommitment};
use crate::ledger::customers::NewDeal;
use crate::{Result, Store, StoreError};

/// What the seed created.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SeedSummary {
    /// Products.
    pub products: usize,
    /// Features, including the ideas created by free-text promises.
    pub features: usize,
    /// Customers.
    pub customers: usize,
    /// Deals.
    pub deals: usize,
    /// Commitments.
    pub commitments: usize,
    /// Releases.
    pub releases: usize,
    /// Requests.
    pub requests: usize,
    /// Demo environments.
    pub environments: usize,
    /// Upcoming demos.
    pub demos: usize,
    /// Time entries of the hats ledger.
    pub time_entries: usize,
}

/// Who records the sample data in the audit trail.
const ACTOR: &str = "demo@localhost";

const PRODUCTS: [&str; 5] = [
    "电子病历 EMR",
    "医院信息系统 HIS",
    "DRG/DIP 智能管理",
    "临床决策支持 CDSS",
    "互联网医院",
];
const EMR: usize = 0;
const HIS: usize = 1;
const DRG: usize = 2;
const CDSS: usize = 3;
const NET: usize = 4;

/// Which demo assets a feature has.
#[derive(Clone, Copy)]
enum Assets {
    None,
    Slide,
    Recording,
    Both,
}

struct FeatureSeed {
    key: &'static str,
    product: usize,
    path: &'static str,
    title: &'static str,
    stage: Stage,
    effort: Option<f64>,
    release: Option<&'static str>,
    assets: Assets,
}

#[allow(clippy::too_many_arguments)]
const fn feature(
    key: &'static str,
    product: usize,
    path: &'static str,
    title: &'static str,
    stage: Stage,
    effort: Option<f64>,
    release: Option<&'static str>,
    assets: Assets,
) -> FeatureSeed {
    FeatureSeed {
        key,
        product,
        path,
        title,
        stage,
        effort,
        release,
        assets,
    }
}

use Assets::{Both, Recording, Slide};
use Stage::{Built, Designed, Idea, Released, Stubbed};

#[rustfmt::skip]
const FEATURES: &[FeatureSeed] = &[
    // 电子病历 EMR
    feature("emr-template", EMR, "住院医生站/病历书写/结构化模板", "结构化病历模板", Released, Some(15.0), Some("v5.1"), Both),
    feature("emr-cite", EMR, "住院医生站/病历书写/检验检查引用", "检验检查结果一键引用", Released, Some(8.0), Some("v5.1"), Recording),
    feature("emr-order-loop", EMR, "住院医生站/医嘱/医嘱闭环", "医嘱全流程闭环管理", Built, Some(20.0), Some("v5.2"), Both),
    feature("emr-ai", EMR, "住院医生站/病历书写/AI 病历生成", "AI 辅助病历生成(大模型)", Designed, Some(60.0), Some("v6.0"), Slide),
    feature("emr-opd", EMR, "门诊医生站/病历书写/门诊病历模板", "门诊结构化病历", Released, Some(10.0), Some("v5.0"), Assets::None),
    feature("emr-vitals", EMR, "护理管理/护理记录/体征录入", "移动护理体征录入(PDA)", Built, Some(12.0), Some("v5.2"), Recording),
    feature("emr-risk", EMR, "护理管理/护理评估/风险评估", "压疮/跌倒风险评估量表", Stubbed, Some(9.0), Some("v5.3"), Assets::None),
    feature("emr-front-qc", EMR, "病案首页/质控", "病案首页质控", Released, Some(18.0), Some("v5.1"), Both),
    feature("emr-timeliness", EMR, "病历质控/环节质控/时限监控", "病历书写时限实时监控", Built, Some(10.0), Some("v5.2"), Assets::None),
    feature("emr-final-score", EMR, "病历质控/终末质控/自动评分", "终末病历自动评分", Stubbed, Some(25.0), Some("v5.3"), Slide),
    feature("emr-grade5", EMR, "电子病历评级/五级评审/数据质量报告", "电子病历评级五级数据质量报告", Designed, Some(30.0), Some("v5.4"), Slide),
    feature("emr-ca", EMR, "住院医生站/病历书写/CA 电子签名", "CA 电子签名与时间戳", Released, Some(6.0), Some("v5.0"), Assets::None),
    // 医院信息系统 HIS
    feature("his-booking", HIS, "门诊挂号/预约挂号/分时段预约", "分时段预约挂号", Released, Some(10.0), Some("v5.0"), Recording),
    feature("his-doctor-shift", HIS, "排班管理/医生排班", "医生排班", Released, Some(8.0), Some("v5.0"), Both),
    feature("his-nurse-shift", HIS, "排班管理/护士排班", "护士排班(APN 排班)", Stubbed, Some(10.0), Some("v5.3"), Assets::None),
    feature("his-rx-audit", HIS, "门诊医生站/处方/合理用药审核", "合理用药审核(前置审方)", Built, Some(20.0), Some("v5.2"), Both),
    feature("his-pay", HIS, "收费管理/门诊收费/聚合支付", "门诊聚合支付(微信/支付宝/医保码)", Released, Some(12.0), Some("v5.1"), Assets::None),
    feature("his-beds", HIS, "住院管理/入出转/床位一览", "床位一览与入出转", Released, Some(10.0), Some("v5.0"), Assets::None),
    feature("his-trace", HIS, "药库管理/药品追溯码", "药品追溯码扫码出入库", Stubbed, Some(15.0), Some("v5.3"), Slide),
    feature("his-insurance", HIS, "医保结算/省医保平台/实时结算", "省医保平台实时结算接口", Built, Some(25.0), Some("v5.2"), Assets::None),
    feature("his-fhir", HIS, "集成平台/互联互通/HL7 FHIR 接口", "HL7 FHIR 接口", Designed, Some(40.0), Some("v5.4"), Slide),
    feature("his-hvc", HIS, "物资管理/高值耗材/条码追溯", "高值耗材条码追溯", Designed, Some(18.0), Some("v5.4"), Slide),
    feature("his-cockpit", HIS, "运营分析/院长驾驶舱", "院长驾驶舱(移动端)", Stubbed, Some(20.0), Some("v5.3"), Slide),
    feature("his-kiosk", HIS, "门诊挂号/自助机/自助挂号缴费", "自助机挂号缴费打印", Idea, Some(15.0), None, Assets::None),
    // DRG/DIP 智能管理
    feature("drg-grouper", DRG, "医保结算/DRG分组/DRG 分组器", "DRG 分组器(CHS-DRG 2.0)", Released, Some(30.0), Some("v5.1"), Both),
    feature("drg-alert", DRG, "医保结算/DRG分组/实时分组预警", "在院病例实时分组预警", Built, Some(20.0), Some("v5.2"), Both),
    feature("drg-dip", DRG, "医保结算/DIP分值/病种分值计算", "DIP 病种分值计算", Released, Some(25.0), Some("v5.1"), Assets::None),
    feature("drg-coding", DRG, "病案首页/编码/智能编码推荐", "ICD-10 智能编码推荐", Built, Some(18.0), Some("v5.2"), Recording),
    feature("drg-list", DRG, "病案首页/质控/医保结算清单校验", "医保结算清单自动校验", Stubbed, Some(15.0), Some("v5.3"), Slide),
    feature("drg-profit", DRG, "运营分析/病组盈亏分析", "病组盈亏分析", Stubbed, Some(12.0), Some("v5.3"), Assets::None),
    feature("drg-cmi", DRG, "运营分析/科室绩效/CMI 分析", "科室 CMI 与时间消耗指数", Designed, Some(10.0), Some("v5.4"), Slide),
    feature("drg-audit", DRG, "医保结算/飞行检查/违规自查", "医保飞检违规自查", Designed, Some(22.0), Some("v5.4"), Slide),
    feature("drg-simulator", DRG, "医保结算/DRG分组/入组模拟", "入组模拟器(医生端)", Idea, Some(15.0), None, Assets::None),
    feature("drg-forecast", DRG, "医保结算/DIP分值/年度清算预测", "年度清算盈亏预测", Idea, Some(20.0), None, Assets::None),
    feature("drg-upcoding", DRG, "医保结算/违规监控/高套低编", "高套低编监控", Built, Some(14.0), Some("v5.2"), Assets::None),
    // 临床决策支持 CDSS
    feature("cdss-label", CDSS, "知识库/药品说明书", "药品说明书知识库", Released, Some(10.0), Some("v5.0"), Assets::None),
    feature("cdss-ddx", CDSS, "诊断辅助/鉴别诊断推荐", "鉴别诊断推荐", Built, Some(30.0), Some("v5.2"), Both),
    feature("cdss-lab", CDSS, "医嘱审核/检验检查合理性", "检验检查合理性提醒", Built, Some(15.0), Some("v5.2"), Assets::None),
    feature("cdss-vte", CDSS, "质控提醒/VTE 风险评估", "VTE 风险评估与预防提醒", Released, Some(12.0), Some("v5.1"), Recording),
    feature("cdss-pathway", CDSS, "临床路径/路径变异分析", "临床路径变异分析", Stubbed, Some(20.0), Some("v5.3"), Slide),
    feature("cdss-imaging", CDSS, "诊断辅助/影像报告结构化", "影像报告结构化解析", Designed, Some(35.0), Some("v5.4"), Slide),
    feature("cdss-kb", CDSS, "知识库/院内知识维护", "院内知识库自行维护", Stubbed, Some(15.0), Some("v5.3"), Assets::None),
    feature("cdss-critical", CDSS, "诊断辅助/危急值闭环", "危急值闭环推送", Released, Some(8.0), Some("v5.1"), Assets::None),
    feature("cdss-rare", CDSS, "诊断辅助/罕见病筛查", "罕见病辅助筛查", Idea, Some(40.0), None, Assets::None),
    feature("cdss-graph", CDSS, "知识库/专科知识图谱", "专科知识图谱(肿瘤)", Designed, Some(45.0), Some("v6.0"), Slide),
    feature("cdss-abx", CDSS, "质控提醒/抗菌药物分级", "抗菌药物分级管理提醒", Built, Some(8.0), Some("v5.2"), Assets::None),
    // 互联网医院
    feature("net-text", NET, "在线问诊/图文问诊", "图文问诊", Released, Some(10.0), Some("v5.0"), Recording),
    feature("net-video", NET, "在线问诊/视频问诊", "视频问诊", Built, Some(15.0), Some("v5.2"), Assets::None),
    feature("net-rx", NET, "处方流转/电子处方/处方外配", "电子处方流转(外配药店)", Stubbed, Some(20.0), Some("v5.3"), Slide),
    feature("net-delivery", NET, "药品配送/快递到家", "药品快递到家", Designed, Some(12.0), Some("v5.4"), Slide),
    feature("net-refill", NET, "复诊续方/慢病续方", "慢病复诊续方", Released, Some(8.0), Some("v5.1"), Assets::None),
    feature("net-mini", NET, "预约挂号/小程序挂号", "微信小程序挂号", Released, Some(6.0), Some("v5.0"), Recording),
    feature("net-insurance", NET, "医保支付/线上医保结算", "医保移动支付(线上医保结算)", Stubbed, Some(25.0), Some("v5.3"), Assets::None),
    feature("net-followup", NET, "随访管理/智能随访", "出院智能随访", Built, Some(12.0), Some("v5.2"), Slide),
    feature("net-ehr", NET, "健康档案/居民健康档案调阅", "居民健康档案调阅", Designed, Some(15.0), Some("v5.4"), Assets::None),
    feature("net-triage", NET, "在线问诊/AI 预问诊", "AI 预问诊(导诊分诊)", Idea, Some(25.0), None, Assets::None),
    feature("net-regulator", NET, "监管对接/省互联网医疗监管平台", "省互联网医疗服务监管平台对接", Built, Some(10.0), Some("v5.2"), Assets::None),
];

/// Hospitals (realistic but invented) and the weight of their requests.
const CUSTOMERS: [(&str, f64); 12] = [
    ("四川省华西第一人民医院", 1.5),
    ("浙江省人民医院", 1.0),
    ("广州市第三人民医院", 1.0),
    ("北京市协和医科附属医院", 2.0),
    ("江苏省南京鼓楼中心医院", 1.0),
    ("湖北省武汉同济中心医院", 1.0),
    ("山东省齐鲁第二人民医院", 1.0),
    ("上海市瑞华医院", 1.5),
    ("重庆市第五人民医院", 1.0),
    ("陕西省西京联合医院", 1.0),
    ("厦门市中山妇幼保健院", 1.0),
    ("昆明市第一人民医院", 1.0),
];

struct DealSeed {
    customer: usize,
    name: &'static str,
    stage: DealStage,
    value: f64,
    /// Acceptance date, in days from today (negative: already past).
    acceptance_in: i64,
    pilot: bool,
}

const fn deal(
    customer: usize,
    name: &'static str,
    stage: DealStage,
    value: f64,
    acceptance_in: i64,
    pilot: bool,
) -> DealSeed {
    DealSeed {
        customer,
        name,
        stage,
        value,
        acceptance_in,
        pilot,
    }
}

use DealStage::{Negotiation, Proposal, Won};

#[rustfmt::skip]
const DEALS: [DealSeed; 16] = [
    deal(0, "电子病历五级评级升级", Won, 8_600_000.0, 45, true),
    deal(0, "DRG/DIP 智能管理一期", Won, 2_400_000.0, -30, false),
    deal(1, "新一代 HIS 整体替换", Won, 12_000_000.0, 180, false),
    deal(2, "互联网医院建设", Won, 1_800_000.0, 20, false),
    deal(3, "临床决策支持系统(CDSS)试点", Won, 3_500_000.0, 90, true),
    deal(3, "互联互通四级甲等测评改造", Negotiation, 6_800_000.0, 300, false),
    deal(4, "DRG 付费改革配套系统", Won, 1_500_000.0, -10, false),
    deal(5, "智慧医院一体化平台", Proposal, 9_800_000.0, 270, false),
    deal(6, "门诊医生站改造", Won, 800_000.0, 5, false),
    deal(7, "互联网医院二期", Won, 2_200_000.0, 60, false),
    deal(7, "DIP 运营分析平台", Negotiation, 1_200_000.0, 200, false),
    deal(8, "HIS 医保接口改造", Won, 950_000.0, 120, false),
    deal(9, "临床决策支持试点", Won, 1_600_000.0, 150, true),
    deal(10, "互联网医院与产后随访", Proposal, 1_100_000.0, 240, false),
    deal(11, "电子病历与病案质控", Won, 4_200_000.0, 100, false),
    deal(11, "DRG 实时分组预警", Won, 900_000.0, -20, false),
];

/// What a promise is about.
#[derive(Clone, Copy)]
enum What {
    /// A catalogue feature, by its key in [`FEATURES`].
    Feature(&'static str),
    /// Free text, filed as an idea under a product.
    Text(usize, &'static str),
}

/// Where a promise has got to since it was made.
#[derive(Clone, Copy)]
enum Then {
    /// Still open.
    Open,
    /// Delivered, with its first `met` criteria met.
    Delivered { met: usize },
    /// Delivered, every criterion met, signed off.
    Accepted,
    /// Waived with a reason.
    Waived(&'static str),
}

struct PromiseSeed {
    deal: usize,
    what: What,
    shown: Mode,
    by: &'static str,
    days_ago: i64,
    critical: bool,
    criteria: &'static [&'static str],
    /// Due date in days from today, instead of the deal's acceptance date.
    due_in: Option<i64>,
    then: Then,
}

const fn promise(
    deal: usize,
    what: What,
    shown: Mode,
    by: &'static str,
    days_ago: i64,
    critical: bool,
    criteria: &'static [&'static str],
) -> PromiseSeed {
    PromiseSeed {
        deal,
        what,
        shown,
        by,
        days_ago,
        critical,
        criteria,
        due_in: None,
        then: Then::Open,
    }
}

impl PromiseSeed {
    const fn due_in(mut self, days: i64) -> Self {
        self.due_in = Some(days);
        self
    }

    const fn then(mut self, then: Then) -> Self {
        self.then = then;
        self
    }
}

const ZHANG: &str = "张伟(售前)";
const LI: &str = "李娜(销售)";
const WANG: &str = "王强(售前)";
const LIU: &str = "刘洋(销售总监)";
const CHEN: &str = "陈静(产品经理)";
const ZHAO: &str = "赵磊(实施)";
const SUN: &str = "孙建国(副总裁)";

use Mode::{Fallback, Live, Menu, Slides, Unverified, Words};
use What::{Feature as F, Text};

#[rustfmt::skip]
const PROMISES: &[PromiseSeed] = &[
    // 四川省华西第一人民医院 · 电子病历五级评级升级
    promise(0, F("emr-template"), Live, ZHANG, 150, true, &["病历模板可由科室自行维护", "模板修改后无需重启即可生效"]).then(Then::Accepted),
    promise(0, F("emr-front-qc"), Live, ZHANG, 150, true, &["病案首页必填项缺失时不允许提交", "质控规则与国家卫健委首页填写规范一致"]).then(Then::Delivered { met: 1 }),
    promise(0, F("emr-grade5"), Slides, ZHANG, 150, true, &["五级评审要求的数据质量指标全部覆盖", "报告可直接导出作为评审材料"]),
    promise(0, F("emr-ai"), Slides, LIU, 148, false, &["生成的病程记录医生修改量少于 30%"]),
    promise(0, F("emr-timeliness"), Unverified, ZHANG, 148, false, &["入院 24 小时内未完成入院记录自动提醒主治医师"]).then(Then::Delivered { met: 0 }),
    promise(0, Text(EMR, "这个肯定没问题：病历书写支持语音录入，四川话也能识别"), Mode::Promise, LIU, 148, false, &["四川话识别准确率≥90%"]),
    // 四川省华西第一人民医院 · DRG/DIP 智能管理一期 (acceptance already past)
    promise(1, F("drg-grouper"), Live, WANG, 240, true, &["分组结果与医保局一致率≥98%"]).then(Then::Accepted),
    promise(1, F("drg-alert"), Fallback, WANG, 240, true, &["医生开医嘱时即时提示费用超标风险", "预警准确率经医保办确认"]).then(Then::Delivered { met: 0 }),
    promise(1, F("drg-simulator"), Words, LI, 238, false, &["医生写病历时就能看到预计入组"]),
    promise(1, F("drg-profit"), Menu, WANG, 238, false, &["按科室、病组、医生三级钻取"]),
    // 浙江省人民医院 · 新一代 HIS 整体替换
    promise(2, F("his-booking"), Live, ZHANG, 90, false, &["号源按 15 分钟分时段释放"]).then(Then::Delivered { met: 1 }),
    promise(2, F("his-doctor-shift"), Live, ZHANG, 90, false, &["科室秘书可自行排班，医务处审核"]),
    promise(2, F("his-nurse-shift"), Menu, ZHANG, 90, true, &["护士长可按 APN 模式排班"]),
    promise(2, F("his-rx-audit"), Unverified, WANG, 90, true, &["审方规则覆盖我院药事委员会全部规则", "审方不通过的处方不能缴费"]),
    promise(2, F("his-insurance"), Fallback, WANG, 88, true, &["通过浙江省医保平台联调测试", "结算失败可自动冲正"]),
    promise(2, F("his-fhir"), Slides, CHEN, 88, false, &["与省全民健康信息平台按 HL7 FHIR 交换数据"]),
    promise(2, F("his-cockpit"), Menu, LI, 88, false, &["院长在手机上能看实时运营数据"]),
    promise(2, Text(HIS, "这个肯定没问题：老系统十年历史数据全部迁移"), Mode::Promise, LI, 88, true, &["历史病历和费用数据全部可查，一条不丢"]),
    // 广州市第三人民医院 · 互联网医院建设
    promise(3, F("net-text"), Live, WANG, 120, true, &["患者从下单到医生接诊不超过 5 分钟"]).then(Then::Accepted),
    promise(3, F("net-video"), Unverified, WANG, 120, true, &["视频问诊全程录像留存 6 个月"]).then(Then::Delivered { met: 0 }),
    promise(3, F("net-rx"), Menu, WANG, 120, true, &["处方可流转到院外合作药店并全程可追溯"]),
    promise(3, F("net-delivery"), Slides, LI, 118, false, &["广州市内药品次日送达"]).then(Then::Waived("客户同意改为二期建设")),
    promise(3, F("net-mini"), Live, LI, 118, false, &["挂号小程序与医院公众号账号打通"]).then(Then::Delivered { met: 0 }),
    // 北京市协和医科附属医院 · CDSS 试点
    promise(4, F("cdss-ddx"), Live, CHEN, 100, true, &["推荐诊断前三位命中率≥80%（以我院病历抽检为准）", "推荐结果附带指南或文献依据"]).then(Then::Delivered { met: 1 }),
    promise(4, F("cdss-vte"), Live, CHEN, 100, true, &["住院患者 VTE 评估率达到 100%"]).then(Then::Delivered { met: 1 }),
    promise(4, F("cdss-kb"), Menu, WANG, 100, false, &["知识库由医务处自行维护，不用厂家改代码"]),
    promise(4, F("cdss-graph"), Slides, SUN, 98, false, &["肿瘤专科知识图谱覆盖 NCCN 指南"]),
    promise(4, F("cdss-rare"), Words, SUN, 98, false, &["国家第一批罕见病目录 121 种全部覆盖"]),
    promise(4, Text(CDSS, "这个肯定没问题：CDSS 能嵌入院内所有第三方系统"), Mode::Promise, SUN, 98, true, &["PACS、LIS、手麻系统中都能弹出提醒"]),
    // 北京市协和医科附属医院 · 互联互通四级甲等 (in negotiation)
    promise(5, F("his-fhir"), Slides, CHEN, 20, true, &["通过互联互通四级甲等测评"]),
    promise(5, F("emr-grade5"), Slides, ZHANG, 20, false, &["评审材料中的数据质量报告一键生成"]),
    promise(5, F("his-hvc"), Slides, LI, 18, false, &[]),
    // 江苏省南京鼓楼中心医院 · DRG 付费改革配套 (acceptance already past)
    promise(6, F("drg-dip"), Live, WANG, 200, true, &["病种分值与南京市医保局公布值一致"]).then(Then::Delivered { met: 0 }),
    promise(6, F("drg-coding"), Unverified, WANG, 200, true, &["编码推荐采纳率≥70%", "支持医保版 2.0 编码映射"]).then(Then::Delivered { met: 1 }),
    promise(6, F("drg-list"), Menu, WANG, 200, true, &["结算清单上传前自动校验，退单率低于 1%"]),
    promise(6, F("drg-audit"), Slides, LI, 198, false, &["按飞检规则每月自动出自查报告"]),
    promise(6, F("drg-forecast"), Words, LIU, 198, false, &["年底清算前能预测医保基金盈亏"]),
    // 湖北省武汉同济中心医院 · 智慧医院一体化 (proposal)
    promise(7, Text(HIS, "这个肯定没问题：与省医保平台实时对接"), Mode::Promise, LI, 15, true, &["门诊、住院医保实时结算全部走省平台", "结算响应时间不超过 3 秒"]),
    promise(7, F("his-kiosk"), Words, LI, 15, false, &["自助机覆盖挂号、缴费、打印报告"]),
    promise(7, F("emr-order-loop"), Live, ZHANG, 15, true, &["口服药、输液、检验医嘱全程可追踪"]),
    promise(7, F("his-cockpit"), Menu, ZHANG, 14, false, &[]),
    // 山东省齐鲁第二人民医院 · 门诊医生站改造
    promise(8, F("emr-opd"), Live, ZHANG, 80, true, &["一份门诊病历 3 分钟内可以写完"]).then(Then::Delivered { met: 0 }),
    promise(8, F("his-rx-audit"), Live, ZHANG, 80, true, &["审方时间不超过 2 秒"]).then(Then::Delivered { met: 0 }),
    promise(8, F("emr-ca"), Unverified, ZHAO, 78, false, &["与山东省 CA 互认"]).then(Then::Delivered { met: 1 }),
    promise(8, Text(HIS, "这个肯定没问题：诊间结算，患者不用去窗口排队"), Mode::Promise, LI, 78, false, &[]),
    // 上海市瑞华医院 · 互联网医院二期
    promise(9, F("net-refill"), Live, WANG, 60, true, &["慢病患者 3 个月内可线上续方"]),
    promise(9, F("net-insurance"), Menu, WANG, 60, true, &["线上医保结算覆盖上海医保"]),
    promise(9, F("net-followup"), Fallback, WANG, 60, false, &["出院患者随访率提升到 80%"]).then(Then::Delivered { met: 0 }),
    promise(9, F("net-triage"), Words, LIU, 58, false, &["AI 分诊准确率≥90%"]),
    // 上海市瑞华医院 · DIP 运营分析 (in negotiation)
    promise(10, F("drg-dip"), Live, WANG, 30, false, &["支持上海 DIP 目录库"]),
    promise(10, F("drg-cmi"), Slides, CHEN, 30, false, &["科室主任能看到本科室 CMI 排名"]),
    // 重庆市第五人民医院 · HIS 医保接口改造
    promise(11, F("his-insurance"), Unverified, ZHAO, 70, true, &["通过重庆市医保局接口验收"]).then(Then::Delivered { met: 0 }),
    promise(11, F("his-pay"), Live, LI, 70, false, &["支持医保电子凭证扫码支付"]).then(Then::Delivered { met: 1 }),
    promise(11, F("his-trace"), Menu, LI, 70, true, &["药品追溯码采集率 100%"]).due_in(-5),
    // 陕西省西京联合医院 · 临床决策支持试点
    promise(12, F("cdss-lab"), Fallback, CHEN, 45, false, &["重复检查提醒时说明上次结果和时间"]),
    promise(12, F("cdss-pathway"), Menu, CHEN, 45, true, &["临床路径入径率、变异率自动统计"]),
    promise(12, F("cdss-abx"), Live, WANG, 44, false, &["特殊使用级抗菌药物需会诊后才能开具"]).then(Then::Delivered { met: 1 }),
    // 厦门市中山妇幼保健院 · 互联网医院与产后随访 (proposal)
    promise(13, F("net-ehr"), Slides, LI, 10, false, &["孕产妇保健档案可在线查阅"]),
    promise(13, F("net-followup"), Live, WANG, 10, false, &["产后 42 天随访自动提醒"]),
    promise(13, Text(NET, "这个肯定没问题：孕期全程在线管理，产检提醒推送到个人微信"), Mode::Promise, SUN, 10, false, &["按产检时间表自动推送孕周提醒"]),
    // 昆明市第一人民医院 · 电子病历与病案质控
    promise(14, F("emr-final-score"), Menu, ZHANG, 130, true, &["终末质控评分与省质控中心标准一致", "扣分项可追溯到具体病历段落"]).due_in(30),
    promise(14, F("emr-front-qc"), Live, ZHANG, 130, true, &["首页数据上报国家平台一次通过"]).then(Then::Delivered { met: 0 }),
    promise(14, F("emr-risk"), Menu, ZHAO, 128, false, &["护理风险评估结果自动生成护理计划"]).then(Then::Delivered { met: 0 }),
    promise(14, F("emr-vitals"), Unverified, ZHAO, 128, false, &["PDA 录入体征自动生成体温单"]).then(Then::Waived("院方已采购第三方移动护理系统，双方同意取消")),
    // 昆明市第一人民医院 · DRG 实时分组预警 (acceptance already past)
    promise(15, F("drg-alert"), Live, WANG, 210, true, &["预警在医生站直接弹出，不用切换系统"]).then(Then::Delivered { met: 1 }),
    promise(15, F("drg-upcoding"), Fallback, WANG, 210, false, &["高套低编嫌疑病例每周推送医保办"]),
];

/// A release shipped since the demos: (version, days ago, features, customers it was delivered
/// to, days ago of the delivery).
type ReleaseSeed = (
    &'static str,
    i64,
    &'static [&'static str],
    &'static [usize],
    i64,
);

#[rustfmt::skip]
const RELEASES: [ReleaseSeed; 3] = [
    ("v5.1", 75, &["emr-template", "emr-cite", "emr-front-qc", "his-pay"], &[0, 8, 11], 60),
    ("v5.2", 21, &["his-rx-audit", "cdss-ddx", "net-video"], &[2, 3, 6], 14),
    ("v5.3", 3, &["drg-list", "emr-timeliness"], &[0, 4], 2),
];

/// Days in the past on which the demo keeps a gap snapshot, so that the dashboard's chart shows
/// eight weeks of a closing gap.
const HISTORY_DAYS: [i64; 11] = [56, 49, 42, 35, 28, 21, 14, 10, 7, 4, 1];

/// Features that moved on after the demos, before the deliveries: (key, new stage, recording).
const PROGRESS: [(&str, Stage, bool); 5] = [
    ("emr-risk", Built, false),
    ("drg-list", Built, false),
    ("his-rx-audit", Released, true),
    ("cdss-ddx", Released, true),
    ("net-video", Released, true),
];

fn slide_url(key: &str) -> String {
    format!("https://slides.example.com/cunjin-demo/{key}")
}

fn recording_url(key: &str) -> String {
    format!("https://recordings.example.com/cunjin-demo/{key}.mp4")
}

/// Whether a promise could have been shown that way on a feature at that stage.
fn mode_fits(mode: Mode, stage: Stage) -> bool {
    match mode {
        Live | Fallback | Unverified => stage.works(),
        Menu => stage == Stubbed,
        Slides => stage == Designed,
        Words => stage == Idea,
        Mode::Promise => false,
    }
}

impl Store {
    /// Fills `workspace_id` with the sample vendor, unless it already has products (then returns
    /// `Ok(None)`).
    pub async fn seed_demo(
        &self,
        workspace_id: i64,
        today: NaiveDate,
    ) -> Result<Option<SeedSummary>> {
        if !self.list_products(workspace_id).await?.is_empty() {
            return Ok(None);
        }
        let ws = workspace_id;
        let day = |offset: i64| today + Duration::days(offset);

        let mut products = Vec::with_capacity(PRODUCTS.len());
        for name in PRODUCTS {
            products.push(self.create_product(ws, name).await?.id);
        }

        let mut features: HashMap<&str, (i64, Stage)> = HashMap::new();
        for f in FEATURES {
            let (slide, recording) = match f.assets {
                Assets::None => (false, false),
                Assets::Slide => (true, false),
                Assets::Recording => (false, true),
                Assets::Both => (true, true),
            };
            let created = self
                .create_feature(
                    ws,
                    ACTOR,
                    NewFeature {
                        product_id: products[f.product],
                        menu_path: MenuPath::parse(f.path)?,
                        title: Some(f.title.to_string()),
                        stage: f.stage,
                        effort_days: f.effort,
                        target_release: f.release.map(str::to_string),
                        slide_url: slide.then(|| slide_url(f.key)),
                        recording_url: recording.then(|| recording_url(f.key)),
                    },
                )
                .await?;
            features.insert(f.key, (created.id, created.stage));
        }

        let feature_of = |key: &str| {
            features
                .get(key)
                .copied()
                .ok_or_else(|| StoreError::Corrupt(format!("demo seed: no feature '{key}'")))
        };

        let mut customers = Vec::with_capacity(CUSTOMERS.len());
        for (name, weight) in CUSTOMERS {
            customers.push(self.create_customer(ws, name, Some(weight)).await?.id);
        }

        let mut deals = Vec::with_capacity(DEALS.len());
        for d in &DEALS {
            let created = self
                .create_deal(
                    ws,
                    NewDeal {
                        customer_id: customers[d.customer],
                        name: d.name.to_string(),
                        stage: d.stage,
                        contract_value: Money::from_units(d.value)?,
                        acceptance_date: Some(day(d.acceptance_in)),
                        pilot: d.pilot,
                    },
                )
                .await?;
            deals.push((created.id, created.customer_id));
        }

        let mut recorded = Vec::with_capacity(PROMISES.len());
        for p in PROMISES {
            let (deal_id, customer_id) = deals[p.deal];
            let feature = match p.what {
                What::Feature(key) => {
                    let (id, stage) = feature_of(key)?;
                    debug_assert!(mode_fits(p.shown, stage), "{key} shown as {}", p.shown);
                    FeatureRef::Id(id)
                }
                What::Text(product, title) => FeatureRef::Title {
                    title: title.to_string(),
                    product_id: Some(products[product]),
                },
            };
            let c = self
                .record_promise(
                    ws,
                    ACTOR,
                    NewCommitment {
                        customer_id,
                        deal_id: Some(deal_id),
                        feature,
                        shown_as: Some(p.shown),
                        promised_by: Some(p.by.to_string()),
                        promised_at: Some(day(-p.days_ago)),
                        due_date: p.due_in.map(day),
                        critical: p.critical,
                        criteria: p.criteria.iter().map(|s| s.to_string()).collect(),
                    },
                )
                .await?;
            recorded.push(c);
        }

        // R&D moved a few features on since the demos.
        for (key, stage, recording) in PROGRESS {
            let (id, _) = feature_of(key)?;
            self.update_feature(
                ws,
                "rnd@localhost",
                id,
                FeatureChange {
                    stage: Some(stage),
                    recording_url: recording.then(|| Some(recording_url(key))),
                    ..Default::default()
                },
            )
            .await?;
        }

        // Implementation delivered what works; customers checked some criteria and signed off.
        for (p, c) in PROMISES.iter().zip(&recorded) {
            let met = match p.then {
                Then::Open => continue,
                Then::Waived(reason) => {
                    self.transition_commitment(
                        ws,
                        "pm@localhost",
                        c.id,
                        Status::Waived,
                        Some(reason),
                    )
                    .await?;
                    continue;
                }
                Then::Delivered { met } => met,
                Then::Accepted => c.criteria.len(),
            };
            let delivered = self
                .transition_commitment(ws, "impl@localhost", c.id, Status::Delivered, None)
                .await?;
            debug_assert!(
                delivered.stage.works(),
                "{} delivered before it works",
                c.feature_title
            );
            for k in c.criteria.iter().take(met) {
                self.set_criterion(ws, "impl@localhost", c.id, k.id, true)
                    .await?;
            }
            if matches!(p.then, Then::Accepted) {
                self.transition_commitment(ws, "pm@localhost", c.id, Status::Accepted, None)
                    .await?;
            }
        }

        // Releases shipped them, and implementation delivered them to some hospitals.
        for (version, days_ago, keys, to, delivered_ago) in RELEASES {
            let feature_ids = keys
                .iter()
                .map(|k| feature_of(k).map(|f| f.0))
                .collect::<Result<Vec<_>>>()?;
            let release = self
                .create_release(
                    ws,
                    "rnd@localhost",
                    NewRelease {
                        version: version.to_string(),
                        date: day(-days_ago),
                        feature_ids,
                    },
                )
                .await?;
            let customer_ids: Vec<i64> = to.iter().map(|&i| customers[i]).collect();
            let at = format!("{}T09:30:00.000Z", day(-delivered_ago));
            self.deliver_release_at(ws, "impl@localhost", release.id, &customer_ids, at)
                .await?;
        }

        // The weeks before today, as if cunjin had kept the gap all along: wider in the past,
        // closing towards today, and nothing before a hospital's first promise.
        let mut first_promise: HashMap<i64, i64> = HashMap::new();
        for p in PROMISES {
            let e = first_promise.entry(deals[p.deal].1).or_insert(0);
            *e = (*e).max(p.days_ago);
        }
        for row in self.gap(ws, None).await?.customers {
            let oldest = first_promise.get(&row.customer_id).copied().unwrap_or(0);
            for d in HISTORY_DAYS.into_iter().filter(|d| *d < oldest) {
                let d64 = d as u64;
                let then = Gap {
                    chi: row.chi + row.chi * d64 / 60 + d64 / 20,
                    cun: row.cun + row.cun * d64 / 45 + d64 / 14,
                };
                self.put_gap_snapshot(ws, row.customer_id, day(-d), then)
                    .await?;
            }
        }
        let requests = self.seed_demo_requests(ws, &features, &customers).await?;
        // Demo readiness: environments with probes, and two upcoming demos with their scripts.
        let (environments, demos) =
            crate::demos::seed_demos(self, ws, today, |k| feature_of(k).map(|f| f.0), &deals)
                .await?;
        let time_entries = self.seed_demo_hats(ws, today).await?;

        Ok(Some(SeedSummary {
            products: self.list_products(ws).await?.len(),
            features: self
                .list_features(ws, &FeatureFilter::default())
                .await?
                .len(),
            customers: customers.len(),
            deals: deals.len(),
            commitments: recorded.len(),
            releases: RELEASES.len(),
            requests,
            environments,
            demos,
            time_entries,
        }))
    }

    /// Six weeks of the administrator's time, drifting from planning to implementation support
    /// and pre-sales, so that the hats page has an answer to "am I still a product manager?".
    async fn seed_demo_hats(&self, ws: i64, today: NaiveDate) -> Result<usize> {
        use crate::hats::NewTimeEntry;
        use cunjin_core::Hat;
        // Minutes per working day for each week, oldest first: planning, implementation,
        // testing, presales, relay.
        #[rustfmt::skip]
        const WEEKS: [[i64; 5]; 6] = [
            [300, 60, 30, 30, 30],
            [270, 90, 30, 30, 30],
            [210, 150, 30, 30, 30],
            [150, 180, 30, 60, 30],
            [120, 180, 60, 60, 30],
            [90, 210, 30, 60, 60],
        ];
        const NOTES: [&str; 5] = [
            "需求评审与规划",
            "现场实施支持",
            "版本验证测试",
            "售前交流",
            "传话：解释需求为何暂缓",
        ];
        let monday = cunjin_core::hats::week_start(today);
        let mut n = 0;
        for (w, minutes) in WEEKS.iter().enumerate() {
            let week = monday - Duration::weeks(5 - w as i64);
            for day in 0..5 {
                let date = week + Duration::days(day);
                if date > today {
                    break;
                }
                for (h, m) in minutes.iter().enumerate() {
                    self.create_time_entry(
                        ws,
                        ACTOR,
                        NewTimeEntry {
                            person: "admin@localhost".into(),
                            date,
                            hat: Hat::ALL[h],
                            minutes: *m,
                            note: NOTES[h].into(),
                        },
                    )
                    .await?;
                    n += 1;
                }
            }
        }
        Ok(n)
    }
}
