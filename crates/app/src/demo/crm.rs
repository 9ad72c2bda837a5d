//! After the service: the follow-up call (or the customer's own rating on the QR page) whose
//! answer follows the service — late arrival, several visits, a long wait for parts, an unfixable
//! device make dissatisfied customers likelier —, or the calls nobody answered; a complaint for
//! every dissatisfied answer, closed in office hours after however long it took (some past their
//! due time, then escalated); sales leads, and a small knowledge base.

use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::Rng;
use shouhou_domain::complaints::DueRules;
use shouhou_domain::{
    Category, ComplaintCategory, OpportunityKind, Rating, Severity, WorkOrderType,
};
use shouhou_store::{args, Arg, Tx};

use super::archive::Device;
use super::names::pick;
use super::orders::Order;
use super::org::Org;
use super::Calendar;
use crate::Result;

/// What the customer lived through.
pub struct Facts {
    /// Minutes the first arrival was late (0 on time; none without a visit).
    pub late: Option<i64>,
    pub visits: usize,
    pub not_fixable: bool,
    pub waited_days: i64,
    /// The technician's extra chance of a dissatisfied customer.
    pub manner: f64,
    pub paid: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct Complaint {
    pub created: DateTime<Utc>,
    /// Hours a normal complaint takes to settle (a severe one less); the close falls in office
    /// hours.
    pub hours: f64,
}

#[derive(Debug, Clone, Copy)]
pub struct FollowUp {
    pub at: DateTime<Utc>,
    pub rating: Rating,
    pub comment: Option<&'static str>,
    /// By phone (the follow-up clerk) or the customer on the QR page.
    pub by_phone: bool,
    pub complaint: Option<Complaint>,
    /// The answer per aspect of the service (see [`Aspect`]), none where the customer skipped
    /// the question.
    pub aspects: [Option<Rating>; ASPECTS],
}

/// What a questionnaire item asks about: the answers follow what happened on that aspect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aspect {
    Response,
    Punctual,
    Manner,
    Quality,
    Price,
    Tidy,
}
const ASPECTS: usize = 6;

/// The demo's questionnaires: the general one (made by the migration), Haier's own questions
/// and the install questionnaire; each item with the aspect it asks about.
/// (id, name, brand, type, items with the aspect each asks about).
pub type Questionnaire = (
    i64,
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, Aspect)],
);

pub const QUESTIONNAIRES: &[Questionnaire] = &[
    (
        1,
        "通用回访问卷",
        "",
        "",
        &[
            ("响应速度", Aspect::Response),
            ("上门准时", Aspect::Punctual),
            ("服务态度", Aspect::Manner),
            ("维修质量", Aspect::Quality),
            ("收费合理", Aspect::Price),
        ],
    ),
    (
        2,
        "海尔品牌回访",
        "海尔",
        "",
        &[
            ("响应速度", Aspect::Response),
            ("上门准时", Aspect::Punctual),
            ("服务态度", Aspect::Manner),
            ("维修质量", Aspect::Quality),
            ("收费合理", Aspect::Price),
            ("清洁整理", Aspect::Tidy),
        ],
    ),
    (
        3,
        "安装回访",
        "",
        "install",
        &[
            ("预约沟通", Aspect::Response),
            ("上门准时", Aspect::Punctual),
            ("安装规范", Aspect::Quality),
            ("服务态度", Aspect::Manner),
            ("收费合理", Aspect::Price),
        ],
    ),
];

/// The demo questionnaire an order of `brand` and `kind` is asked (as `app::csi::best_fit`).
pub fn questionnaire_of(brand: &str, kind: WorkOrderType) -> &'static Questionnaire {
    QUESTIONNAIRES
        .iter()
        .filter_map(|q| shouhou_domain::csi::fit(q.2, q.3, Some(brand), kind).map(|f| (f, q)))
        .max_by_key(|(f, q)| (*f, std::cmp::Reverse(q.0)))
        .map(|(_, q)| q)
        .unwrap_or(&QUESTIONNAIRES[0])
}

/// The answer per aspect: the overall answer, lower where that aspect went wrong (late, a long
/// wait, several visits or no fix, a charge, the technician's manner), sometimes higher where it
/// went right; a few questions skipped. Drawn from their own generator (seeded by the
/// completion time) so the rest of the demo is the same with or without questionnaires.
fn aspects(completed: DateTime<Utc>, overall: Rating, f: &Facts) -> [Option<Rating>; ASPECTS] {
    use rand::SeedableRng;
    let mut rng = StdRng::seed_from_u64(completed.timestamp() as u64 ^ 0x00c5_1c5e);
    let score = |r: Rating| shouhou_domain::csi::thirds(r);
    let of = |t: i64| match t.clamp(0, 3) {
        3 => Rating::VerySatisfied,
        2 => Rating::Satisfied,
        1 => Rating::Neutral,
        _ => Rating::Dissatisfied,
    };
    let late = f.late.unwrap_or(0);
    let trouble = |a: Aspect| -> i64 {
        match a {
            Aspect::Response => i64::from(f.waited_days > 4) + i64::from(f.waited_days > 10),
            Aspect::Punctual => i64::from(late > 0) + i64::from(late > 60),
            Aspect::Manner => i64::from(f.manner > 0.05),
            Aspect::Quality => i64::from(f.visits > 1) + i64::from(f.not_fixable),
            Aspect::Price => i64::from(f.paid),
            Aspect::Tidy => 0,
        }
    };
    let all = [
        Aspect::Response,
        Aspect::Punctual,
        Aspect::Manner,
        Aspect::Quality,
        Aspect::Price,
        Aspect::Tidy,
    ];
    let mut out = [None; ASPECTS];
    for (i, a) in all.iter().enumerate() {
        if rng.gen_bool(0.04) {
            continue;
        }
        let mut t = score(overall);
        match trouble(*a) {
            0 => {
                if t < 3 && rng.gen_bool(if t <= 1 { 0.5 } else { 0.3 }) {
                    t += 1;
                } else if rng.gen_bool(0.06) {
                    t -= 1;
                }
            }
            k => {
                if rng.gen_bool(0.75) {
                    t -= k;
                }
            }
        }
        out[i] = Some(of(t));
    }
    out
}

fn aspect_index(a: Aspect) -> usize {
    match a {
        Aspect::Response => 0,
        Aspect::Punctual => 1,
        Aspect::Manner => 2,
        Aspect::Quality => 3,
        Aspect::Price => 4,
        Aspect::Tidy => 5,
    }
}

/// A follow-up call that got no rating: when, `no_answer` or `refused`, the retry it set.
#[derive(Debug, Clone, Copy)]
pub struct Call {
    pub at: DateTime<Utc>,
    pub outcome: &'static str,
    pub retry: Option<DateTime<Utc>>,
}

/// The calls of a follow-up nobody answered: the clerk calls from the next working day, up to
/// three times (the last call ends it as unreachable), or the customer refuses at the first call.
pub fn unanswered(rng: &mut StdRng, cal: &Calendar, done: DateTime<Utc>) -> Vec<Call> {
    let refuses = rng.gen_bool(0.15);
    let mut at = done;
    let mut calls = Vec::new();
    for n in 1..=crate::followups::MAX_CALL_ATTEMPTS {
        at = cal.office(at + Duration::hours(20), rng);
        if refuses {
            calls.push(Call {
                at,
                outcome: "refused",
                retry: None,
            });
            break;
        }
        let next = cal.office(at + Duration::hours(20), rng);
        calls.push(Call {
            at,
            outcome: "no_answer",
            retry: (n < crate::followups::MAX_CALL_ATTEMPTS).then_some(next),
        });
    }
    calls
}

impl FollowUp {
    /// When the order may be closed, in office hours: soon after a phone answer, within the day
    /// after a rating on the QR page, or after the last call without an answer.
    pub fn closes(
        f: Option<&FollowUp>,
        calls: &[Call],
        rng: &mut StdRng,
        cal: &Calendar,
        reviewed: DateTime<Utc>,
    ) -> DateTime<Utc> {
        let after = match f {
            Some(f) if f.by_phone => {
                return f.at.max(reviewed) + Duration::minutes(rng.gen_range(3..40));
            }
            Some(f) => f.at.max(reviewed) + Duration::minutes(rng.gen_range(30..20 * 60)),
            None => {
                let last = calls.last().map_or(reviewed, |c| c.at);
                last.max(reviewed) + Duration::minutes(rng.gen_range(2..30))
            }
        };
        cal.working(after, rng)
    }
}

const PRAISE: &[&str] = &[
    "师傅很专业",
    "准时到达，态度好",
    "维修及时",
    "",
    "",
    "讲解很耐心",
];

/// The answer to the follow-up of an order completed at `completed`, or none (three calls
/// unanswered).
pub fn follow_up(
    rng: &mut StdRng,
    cal: &Calendar,
    completed: DateTime<Utc>,
    f: &Facts,
) -> Option<FollowUp> {
    let by_phone = if rng.gen_bool(0.1) {
        false
    } else if rng.gen_bool(0.72) {
        true
    } else {
        return None;
    };
    let at = if by_phone {
        cal.office(
            completed + Duration::minutes(rng.gen_range(20 * 60..60 * 60)),
            rng,
        )
    } else {
        completed + Duration::minutes(rng.gen_range(30..30 * 60))
    };
    let late = f.late.unwrap_or(0);
    let mut bad = 0.015 + f.manner;
    if late > 0 {
        bad += 0.06 + 0.10 * (late.min(24 * 60) as f64 / (24.0 * 60.0));
    }
    bad += (0.04 * f.visits.saturating_sub(1) as f64).min(0.1);
    if f.not_fixable {
        bad += 0.12;
    }
    if f.waited_days > 4 {
        bad += 0.05;
    }
    if f.paid {
        bad += 0.01;
    }
    let neutral = 0.05 + bad * 0.8;
    let very = (0.62 - bad * 2.2).max(0.15);
    let x: f64 = rng.gen();
    let rating = if x < bad {
        Rating::Dissatisfied
    } else if x < bad + neutral {
        Rating::Neutral
    } else if x < bad + neutral + very {
        Rating::VerySatisfied
    } else {
        Rating::Satisfied
    };
    let comment = match rating {
        Rating::Dissatisfied if late > 60 => "师傅迟到太久",
        Rating::Dissatisfied if f.not_fixable => "没修好，还要换新机",
        Rating::Dissatisfied if f.visits > 1 => "跑了好几趟才修好",
        Rating::Dissatisfied if f.paid => "收费不透明",
        Rating::Dissatisfied => "修完第二天又有问题",
        Rating::Neutral if late > 0 => "等了比较久",
        Rating::Neutral => "一般",
        _ => *pick(rng, PRAISE),
    };
    // The answer opens the complaint; the manager calls back and settles it in hours to days (in
    // office hours), most within the due time.
    let complaint = (rating == Rating::Dissatisfied).then(|| {
        let created = at;
        let z: f64 = (0..6).map(|_| rng.gen::<f64>()).sum::<f64>() - 3.0;
        let hours = (16.0 * (0.9 * z).exp()).clamp(1.0, 7.0 * 24.0);
        Complaint { created, hours }
    });
    Some(FollowUp {
        at,
        rating,
        comment: (!comment.is_empty()).then_some(comment),
        by_phone,
        complaint,
        aspects: aspects(completed, rating, f),
    })
}

#[derive(Default)]
pub struct Rows {
    pub follow_ups: Vec<Vec<Arg>>,
    /// Every answer of a follow-up: the overall one and the questionnaire's items.
    pub answers: Vec<Vec<Arg>>,
    /// Follow-up calls that got no rating (no answer, refused).
    pub calls: Vec<Vec<Arg>>,
    pub complaints: Vec<Vec<Arg>>,
    pub actions: Vec<Vec<Arg>>,
    pub leads: Vec<Vec<Arg>>,
}

pub const FOLLOW_UP_COLS: &[&str] = &[
    "id",
    "work_order_id",
    "rating",
    "comment",
    "channel",
    "user_id",
    "at",
    "questionnaire_id",
];
pub const ANSWER_COLS: &[&str] = &[
    "follow_up_id",
    "work_order_id",
    "position",
    "item",
    "rating",
];
pub const CALL_COLS: &[&str] = &["work_order_id", "outcome", "user_id", "at", "retry_at"];
pub const COMPLAINT_COLS: &[&str] = &[
    "id",
    "work_order_id",
    "follow_up_id",
    "org_unit_id",
    "owner_id",
    "status",
    "category",
    "severity",
    "description",
    "resolution",
    "created_at",
    "due_at",
    "closed_at",
    "escalated_to",
    "escalated_at",
];
pub const ACTION_COLS: &[&str] = &[
    "complaint_id",
    "kind",
    "note",
    "user_id",
    "to_user_id",
    "at",
];

/// What the store does about a complaint: the call back, then what followed, then how it was
/// settled — by what the customer complained about.
fn settling(category: ComplaintCategory) -> (&'static [&'static str], &'static [&'static str]) {
    use ComplaintCategory::*;
    match category {
        Late => (
            &[
                "已致电客户致歉，说明迟到原因",
                "已提醒技术员提前出发、迟到须电话告知",
            ],
            &[
                "向客户致歉并赠送一次免费清洗保养",
                "客户接受道歉，已减免上门费",
            ],
        ),
        Quality => (
            &[
                "已致电客户，约定明天上午复查",
                "已安排高级技术员上门复查",
                "复查确认为同一故障，已更换配件",
            ],
            &[
                "复修完成，客户确认正常使用",
                "已为客户免费复修并延长该部件保修 3 个月",
            ],
        ),
        Charges => (
            &[
                "已致电客户，逐项解释收费依据",
                "核对收费明细，发现路程费多收",
            ],
            &[
                "已退还多收的上门费，客户认可",
                "客户认可收费说明，已提供收费明细单",
            ],
        ),
        Parts => (
            &["已致电客户说明配件到货时间", "已向厂家催件，配件已发出"],
            &["配件到货后已上门更换，客户满意", "已调用门店备件先行更换"],
        ),
        Attitude => (
            &[
                "已致电客户致歉，了解经过",
                "已与技术员谈话，要求规范服务用语",
            ],
            &["店长上门致歉，客户接受", "已致歉并安排其他技术员后续服务"],
        ),
        Other => (&["已致电客户了解情况"], &["已向客户解释并处理，客户认可"]),
    }
}

/// What the customer complained about, read from what they said.
fn category_of(comment: Option<&str>, rng: &mut StdRng) -> ComplaintCategory {
    use ComplaintCategory::*;
    match comment {
        Some("师傅迟到太久") => Late,
        Some("没修好，还要换新机") => Quality,
        Some("跑了好几趟才修好") => {
            if rng.gen_bool(0.5) {
                Parts
            } else {
                Quality
            }
        }
        Some("收费不透明") => Charges,
        _ => {
            if rng.gen_bool(0.6) {
                Quality
            } else {
                Attitude
            }
        }
    }
}
pub const LEAD_COLS: &[&str] = &[
    "work_order_id",
    "customer_id",
    "org_unit_id",
    "client_key",
    "kind",
    "value_fen",
    "note",
    "status",
    "created_by",
    "created_at",
    "updated_at",
];

/// The follow-up, complaint and lead rows of one order, as far as they happened by now.
pub fn rows(
    rng: &mut StdRng,
    o: &Order,
    dev: &Device,
    org: &Org,
    cal: &Calendar,
    (next_follow_up, next_complaint): (&mut i64, &mut i64),
    out: &mut Rows,
) {
    let now = cal.now;
    if let Some(f) = o.follow_up.filter(|f| f.at <= now) {
        let id = *next_follow_up;
        *next_follow_up += 1;
        let q = questionnaire_of(super::names::PRODUCTS[dev.product].brand, o.kind);
        out.follow_ups.push(args![
            id,
            o.id,
            f.rating.as_str(),
            f.comment,
            if f.by_phone { "phone" } else { "self_service" },
            f.by_phone.then_some(org.staff.followup),
            f.at,
            q.0
        ]);
        out.answers.push(args![
            id,
            o.id,
            0i64,
            shouhou_domain::csi::OVERALL,
            f.rating.as_str()
        ]);
        for (i, (item, aspect)) in q.4.iter().enumerate() {
            if let Some(r) = f.aspects[aspect_index(*aspect)] {
                out.answers
                    .push(args![id, o.id, i as i64 + 1, *item, r.as_str()]);
            }
        }
        if let Some(c) = f.complaint.filter(|c| c.created <= now) {
            let kid = *next_complaint;
            *next_complaint += 1;
            complaint_rows(kid, id, o, org, cal, c, f.comment, out);
        }
    }
    let Some(done) = o.at(shouhou_domain::Status::Completed) else {
        return;
    };
    for c in o.calls.iter().filter(|c| c.at <= now) {
        out.calls
            .push(args![o.id, c.outcome, org.staff.followup, c.at, c.retry]);
    }
    if o.kind == WorkOrderType::RepairPhone || !rng.gen_bool(0.05) {
        return;
    }
    let kind = *pick(rng, OpportunityKind::ALL);
    let value: i64 = match kind {
        OpportunityKind::TradeIn | OpportunityKind::ReplacementDue => {
            rng.gen_range(2_000..9_000) * 100
        }
        OpportunityKind::MaintenanceContract => rng.gen_range(300..1_500) * 100,
        OpportunityKind::Consumables => rng.gen_range(50..600) * 100,
    };
    let status = if done < now - Duration::days(30) {
        *pick(rng, &["won", "lost", "open"])
    } else {
        "open"
    };
    out.leads.push(args![
        o.id,
        dev.customer,
        o.store,
        format!("demo-{}", o.id),
        kind.as_str(),
        value,
        None::<String>,
        status,
        o.doer(org),
        done,
        done
    ]);
}

#[rustfmt::skip]
const KB: &[(Category, &str, &str, &str, &str)] = &[
    (Category::Refrigeration, "冰箱不制冷", "压缩机不启动，冷藏室温度高", "启动继电器或过载保护器损坏", "测量继电器通断，更换启动继电器；检查电压是否正常"),
    (Category::Refrigeration, "冰箱冷藏室结冰", "冷藏室后壁结冰，食物冻坏", "温控器失灵或门封不严", "检查门封条密封；校准或更换温控器"),
    (Category::Refrigeration, "空调制冷差", "出风不凉，外机频繁启停", "滤网脏堵或冷媒不足", "清洗滤网和蒸发器；检漏后补充冷媒"),
    (Category::Washing, "洗衣机不脱水", "脱水时报 E21/UE，滚筒不转", "衣物偏心或排水不畅", "重新摆放衣物；清理排水泵过滤器"),
    (Category::Washing, "洗衣机漏水", "底部有水渍", "进水管接头松动或门封老化", "紧固接头；更换门封圈"),
    (Category::TvAudio, "电视有声无图", "开机有声音，屏幕黑屏", "背光灯条或电源板故障", "手电照屏看是否有图像；更换灯条或电源板"),
    (Category::Copier, "复印机卡纸", "纸张在定影区卡住，报 J 代码", "定影组件磨损或搓纸轮老化", "清洁搓纸轮；检查定影膜，必要时更换定影组件"),
    (Category::Copier, "复印件有黑线", "复印件同一位置有纵向黑线", "扫描玻璃或感光鼓有污渍、划痕", "清洁扫描玻璃；检查并更换感光鼓"),
    (Category::Printer, "打印模糊", "字迹发淡、有底灰", "粉盒将尽或打印头脏污", "更换粉盒；运行打印头清洗"),
    (Category::Kitchen, "燃气灶打不着火", "点火有声音但不着火", "点火针积碳或电磁阀故障", "清洁点火针；检查热电偶和电磁阀"),
    (Category::SmallAppliance, "电饭煲不加热", "通电指示灯亮但不加热", "温控器或加热盘损坏", "检测加热盘电阻，更换温控器"),
];

/// Symptom → cause → fix articles by category.
pub async fn knowledge_base(tx: &mut Tx, author: i64, now: DateTime<Utc>) -> Result<()> {
    let rows = KB
        .iter()
        .map(|(c, title, symptom, cause, fix)| {
            args![c.as_str(), *title, *symptom, *cause, *fix, author, now, now]
        })
        .collect();
    tx.bulk_insert(
        "kb_articles",
        &[
            "category",
            "title",
            "symptom",
            "cause",
            "fix",
            "author_id",
            "created_at",
            "updated_at",
        ],
        rows,
    )
    .await?;
    Ok(())
}

/// The complaint `kid` opened by follow-up `follow_up` and its log, as far as it happened by
/// `now`: the owner (the store's manager) calls back within hours, may act again, and settles
/// it — most by the due time (severe ones faster); one not settled by its due time goes up to
/// the head office's manager. Its details come from a generator of its own, so the rest of the
/// city stays as it is.
#[allow(clippy::too_many_arguments)]
fn complaint_rows(
    kid: i64,
    follow_up: i64,
    o: &Order,
    org: &Org,
    cal: &Calendar,
    c: Complaint,
    comment: Option<&'static str>,
    out: &mut Rows,
) {
    use rand::SeedableRng;
    let now = cal.now;
    let mut rng = StdRng::seed_from_u64(0xC0_4D1A ^ (o.id as u64).wrapping_mul(0x9E37_79B9));
    let category = category_of(comment, &mut rng);
    let severe = rng.gen_bool(if category == ComplaintCategory::Quality {
        0.35
    } else {
        0.15
    });
    let severity = if severe {
        Severity::Severe
    } else {
        Severity::Normal
    };
    let due = DueRules::default().due_at(c.created, severity);
    let hours = if severe { c.hours * 0.4 } else { c.hours };
    let closed_at = cal.working(
        c.created + Duration::minutes((hours * 60.0) as i64),
        &mut rng,
    );
    let took = closed_at - c.created;
    let closed = (closed_at <= now).then_some(closed_at);
    let owner = org.staff.manager_of(o.store);
    let (steps, endings) = settling(category);
    let ending = *pick(&mut rng, endings);
    // The call back, then the other steps spread over the time it took, in office hours.
    let n = rng.gen_range(1..=steps.len());
    let mut at = c.created;
    for (i, step) in steps.iter().take(n).enumerate() {
        let spread = c.created
            + Duration::minutes(((took.num_minutes() * (i as i64 + 1)) / (n as i64 + 2)).max(5));
        at = cal.office(spread.max(at), &mut rng).min(closed_at);
        if at <= now {
            out.actions
                .push(args![kid, "note", *step, Some(owner), None::<i64>, at]);
        }
    }
    let late = closed_at > due;
    let escalated = (late && due <= now).then_some(due + Duration::minutes(1));
    let up = org.staff.manager;
    if let Some(at) = escalated {
        out.actions
            .push(args![kid, "escalated", "", None::<i64>, Some(up), at]);
    }
    if let Some(at) = closed {
        out.actions
            .push(args![kid, "closed", ending, Some(owner), None::<i64>, at]);
    }
    out.complaints.push(args![
        kid,
        o.id,
        follow_up,
        o.store,
        owner,
        if closed.is_some() { "closed" } else { "open" },
        category.as_str(),
        severity.as_str(),
        comment.unwrap_or("不满意"),
        closed.map(|_| ending),
        c.created,
        due,
        closed,
        escalated.map(|_| up),
        escalated
    ]);
}
