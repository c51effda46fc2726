//! The requests of the sample workspace: about forty, from every source role, mostly in Chinese;
//! some decided (with the reasons their requesters read), some merged as duplicates, some new,
//! so that the inbox, search, similar requests and the demand term of the roadmap all show.

use std::collections::HashMap;

use cunjin_core::{Decision, SourceRole, Stage};

use crate::requests::{FeatureLink, NewDecision, NewRequest, Via};
use crate::{Result, Store, StoreError};

/// What product management decided on a sample request.
enum Then {
    New,
    Accept(&'static str, Option<&'static str>),
    Defer(&'static str),
    Decline(&'static str),
    /// A duplicate of the sample request at that index.
    Dup(usize),
    NeedsInfo(&'static str),
    /// Linked to a feature, not decided yet.
    Link(&'static str),
}

use SourceRole::{Customer, Implementation, Leadership, Presales, Product, Rnd, Sales};
use Then::{Accept, Decline, Defer, Dup, Link, NeedsInfo};

/// (text, source role, customer index, requester, what happened).
#[rustfmt::skip]
const REQUESTS: &[(&str, SourceRole, Option<usize>, &str, Then)] = &[
    ("病历书写时能一键引用最近三次检验结果，不用再手工抄", Customer, Some(0), "心内科 王主任", Accept("emr-cite", Some("v5.2"))),
    ("希望病历里可以直接引用检验检查结果，医生抄错太多", Implementation, Some(1), "实施 赵磊", Dup(0)),
    ("门诊医生站增加医保结算清单上传功能", Customer, Some(2), "医保办 李科长", Accept("drg-list", Some("v5.3"))),
    ("医保结算清单要能在门诊医生站直接上传，不要再去医保办", Implementation, Some(4), "实施 周敏", Dup(2)),
    ("护士排班支持按周复制，每周重排太累", Customer, Some(3), "护理部 陈护士长", Accept("his-nurse-shift", Some("v5.3"))),
    ("护士排班能不能按周复制上一周", Customer, Some(7), "护理部 刘护士长", Dup(4)),
    ("排班表导出 Excel，方便发给科室", Customer, Some(5), "人事科 孙老师", Defer("先完成按周复制，导出放到下一期")),
    ("DRG 分组结果在医生写病历时实时预警", Customer, Some(3), "医务处 张处长", Link("drg-alert")),
    ("在院病人 DRG 分组实时提醒超支风险", Leadership, Some(0), "分管副院长", Dup(7)),
    ("drg 分组器要支持 CHS-DRG 2.0 细分组", Rnd, None, "研发 吴工", Accept("drg-grouper", Some("v5.2"))),
    ("DIP 病种分值每月自动更新，不要手工导入", Customer, Some(6), "医保办 钱主任", Accept("drg-dip", None)),
    ("医保飞检前能自查违规收费", Leadership, Some(3), "院长办公室", Link("drg-audit")),
    ("希望有院长驾驶舱手机版，随时看收入和床位", Leadership, Some(7), "院长", Accept("his-cockpit", Some("v5.4"))),
    ("院长驾驶舱能在手机上看", Sales, Some(8), "销售 郑经理", Dup(12)),
    ("AI 自动生成出院小结", Presales, Some(9), "售前 冯工", Defer("大模型病历生成在 v6.0 规划中，先做试点")),
    ("用大模型帮医生写病程记录", Customer, Some(3), "信息科 何主任", Link("emr-ai")),
    ("病案首页质控规则由病案科自己配置", Customer, Some(4), "病案科 许科长", Accept("emr-front-qc", Some("v5.2"))),
    ("终末病历自动评分，替代人工抽查", Customer, Some(10), "质控科 韩老师", NeedsInfo("请提供目前人工评分表，以便对齐评分口径")),
    ("电子病历评级五级的数据质量报告一键生成", Leadership, Some(0), "信息中心主任", Link("emr-grade5")),
    ("移动护理 PDA 断网时也能录体征，联网后自动上传", Implementation, Some(1), "实施 赵磊", Accept("emr-vitals", Some("v5.2"))),
    ("PDA 离线录入体征", Customer, Some(11), "护理部 杨护士长", Dup(19)),
    ("压疮跌倒风险评估量表要能按科室自定义", Customer, Some(5), "护理部 何护士长", Link("emr-risk")),
    ("危急值要推送到医生手机并闭环记录", Customer, Some(7), "检验科 朱主任", Accept("cdss-critical", Some("v5.3"))),
    ("危急值消息推送到医生微信", Implementation, Some(2), "实施 周敏", Dup(22)),
    ("抗菌药物分级管理提醒太多，希望只在越级时弹出", Customer, Some(6), "药剂科 秦主任", NeedsInfo("请举两个误报的例子（医嘱号）")),
    ("VTE 风险评估自动带出评分项", Customer, Some(9), "医务处 尤处长", Link("cdss-vte")),
    ("互联网医院慢病复诊续方对接医保电子处方流转", Customer, Some(8), "互联网医院办公室", Accept("net-refill", Some("v5.3"))),
    ("复诊续方时药品快递到家", Sales, Some(8), "销售 郑经理", Link("net-delivery")),
    ("视频问诊支持多方会诊", Customer, Some(10), "远程医学中心", Defer("视频会诊与远程会诊平台统一规划，明年上半年评估")),
    ("微信小程序挂号支持医保码支付", Customer, Some(11), "门诊部 施主任", Link("net-insurance")),
    ("出院随访问卷能按病种配置", Customer, Some(1), "随访中心", Accept("net-followup", None)),
    ("在系统里做一个全院 OA 办公流程", Leadership, Some(2), "院办", Decline("OA 不属于本产品范围，建议使用医院现有 OA 系统")),
    ("HIS 里加一个食堂点餐", Customer, Some(5), "后勤科", Decline("与医疗业务无关，不在产品规划内")),
    ("自助机打印发票和检验报告", Customer, Some(4), "门诊部 曹主任", Link("his-kiosk")),
    ("药品追溯码扫码出入库要和国家平台对上", Rnd, None, "研发 吴工", Link("his-trace")),
    ("高值耗材条码从入库追到病人", Product, None, "产品 林", Accept("his-hvc", Some("v5.4"))),
    ("Export the DRG grouping report to Excel for the finance office", Customer, Some(3), "Finance office", Link("drg-profit")),
    ("Single sign-on with the hospital portal (CAS)", Implementation, Some(7), "Implementation team", NeedsInfo("Which CAS version does the portal run?")),
    ("Allow departments to maintain their own EMR templates", Customer, Some(3), "Dr. Zhang", Dup(16)),
    ("希望支持 FHIR 接口给区域平台推送数据", Presales, Some(9), "售前 冯工", Then::New),
    ("检验检查申请单能不能合并打印", Customer, Some(10), "检验科", Then::New),
    ("门诊病历模板按专科区分", Implementation, Some(11), "实施 邓工", Then::New),
];

impl Store {
    /// Files and decides the sample requests; returns how many were filed.
    pub(crate) async fn seed_demo_requests(
        &self,
        ws: i64,
        features: &HashMap<&str, (i64, Stage)>,
        customers: &[i64],
    ) -> Result<usize> {
        let feature = |key: &str| {
            features
                .get(key)
                .map(|(id, _)| *id)
                .ok_or_else(|| StoreError::Corrupt(format!("demo seed: no feature '{key}'")))
        };
        let mut ids = Vec::with_capacity(REQUESTS.len());
        for (text, role, customer, requester, _) in REQUESTS {
            let via = if *role == Customer {
                Via::Intake
            } else {
                Via::Web
            };
            let r = self
                .create_request(
                    ws,
                    if via == Via::Intake {
                        "intake"
                    } else {
                        "demo@localhost"
                    },
                    via,
                    NewRequest {
                        text: text.to_string(),
                        source_role: *role,
                        customer_id: customer.map(|i| customers[i]),
                        requester: requester.to_string(),
                        contact: String::new(),
                        product_id: None,
                        feature_id: None,
                    },
                )
                .await?;
            ids.push(r.id);
        }
        for ((_, _, _, _, then), id) in REQUESTS.iter().zip(&ids) {
            let d = |decision| NewDecision {
                decision,
                reason: None,
                feature: None,
                duplicate_of: None,
                planned_release: None,
            };
            let decision = match then {
                Then::New => continue,
                Link(key) => {
                    // Triaged to a feature, not decided yet: it already counts as demand.
                    self.link_request_feature(ws, "pm@localhost", *id, feature(key)?)
                        .await?;
                    continue;
                }
                Accept(key, release) => NewDecision {
                    feature: Some(FeatureLink::Id(feature(key)?)),
                    planned_release: release.map(str::to_string),
                    ..d(Decision::Accepted)
                },
                Defer(reason) => NewDecision {
                    reason: Some(reason.to_string()),
                    ..d(Decision::Deferred)
                },
                Decline(reason) => NewDecision {
                    reason: Some(reason.to_string()),
                    ..d(Decision::Declined)
                },
                NeedsInfo(reason) => NewDecision {
                    reason: Some(reason.to_string()),
                    ..d(Decision::NeedsInfo)
                },
                Dup(original) => NewDecision {
                    duplicate_of: Some(ids[*original]),
                    ..d(Decision::Duplicate)
                },
            };
            self.decide_request(ws, "pm@localhost", *id, decision)
                .await?;
        }
        Ok(ids.len())
    }
}
