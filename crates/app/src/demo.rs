//! Demo data: a mid-size Chinese city (Hangzhou-like) with a head office, three stores, a partner,
//! twelve technicians with skills and shifts, customers, devices of real-looking brands, and a
//! year of service history. `seed` makes it repeatable. Loads only into an empty store.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use shouhou_domain::sla::{deadlines, default_rules, pick_rule};
use shouhou_domain::warranty::WarrantyTerms;
use shouhou_domain::{
    work_order_number, Category, OpportunityKind, Priority, Rating, Role, Status, Tier,
    VisitOutcome, WarrantyStart, WorkOrderType,
};
use shouhou_store::search::customer_doc;
use shouhou_store::{args, Arg, Tx};

use crate::auth::hash_password;
use crate::{App, AppError, Result};

pub struct DemoOptions {
    pub seed: u64,
    pub customers: usize,
    /// Devices per customer on average (1.5 for the demo city, 2 for the large lookup store).
    pub devices_per_customer: f64,
    pub orders: usize,
    pub password: String,
    /// "Now": history ends here.
    pub now: DateTime<Utc>,
}

impl DemoOptions {
    pub fn city(seed: u64, password: &str, now: DateTime<Utc>) -> DemoOptions {
        DemoOptions {
            seed,
            customers: 2_000,
            devices_per_customer: 1.5,
            orders: 15_000,
            password: password.to_string(),
            now,
        }
    }
}

#[derive(Debug, Clone)]
pub struct DemoReport {
    pub logins: Vec<(String, Role)>,
    pub customers: usize,
    pub devices: usize,
    pub work_orders: usize,
    pub visits: usize,
}

/// Called with (stage, done, total) as generation goes on.
pub type Progress<'a> = &'a (dyn Fn(&str, u64, u64) + Sync);

const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤";
const GIVEN: &str = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬斌宇浩凯健俊帆帅旭宁龙林欣然子涵梓轩雨婷一诺思远晨曦佳怡志强建国海燕小红文博";
const COMPANY_PREFIX: &[&str] = &["杭州", "浙江", "西湖", "钱塘", "之江", "滨江", "余杭"];
const COMPANY_WORDS: &[&str] = &[
    "科技",
    "贸易",
    "文化传媒",
    "建设工程",
    "会计师事务所",
    "律师事务所",
    "教育咨询",
    "医疗器械",
    "印务",
    "设计",
];
const COMPANY_SUFFIX: &[&str] = &["有限公司", "股份有限公司", "工作室"];
const DISTRICTS: &[(&str, f64, f64)] = &[
    ("上城区", 30.2425, 120.1691),
    ("拱墅区", 30.3195, 120.1419),
    ("西湖区", 30.2594, 120.1302),
    ("滨江区", 30.2084, 120.2107),
    ("萧山区", 30.1837, 120.2646),
    ("余杭区", 30.2960, 120.0300),
];
const ROADS: &[&str] = &[
    "文三路",
    "文二路",
    "解放路",
    "庆春路",
    "延安路",
    "凤起路",
    "体育场路",
    "莫干山路",
    "天目山路",
    "教工路",
    "古墩路",
    "江南大道",
    "滨盛路",
    "江陵路",
    "建设一路",
    "市心路",
    "五常大道",
    "文一西路",
    "秋涛路",
    "德胜路",
];
const ESTATES: &[&str] = &[
    "花园", "新村", "家园", "小区", "公寓", "苑", "府", "嘉园", "名苑", "华庭",
];
const ESTATE_NAMES: &[&str] = &[
    "翠苑", "金都", "绿城", "湖畔", "阳光", "和睦", "江南", "望江", "东方", "锦绣", "紫金", "桂花",
    "星洲", "春江", "文鼎",
];
const MOBILE: &[&str] = &[
    "138", "139", "135", "136", "137", "150", "151", "152", "158", "159", "186", "187", "188",
    "130", "131", "132", "155", "156", "185", "133", "153", "180", "189", "177", "199", "198",
];

/// (brand, serial prefix, model, category, policy key)
const PRODUCTS: &[(&str, &str, &str, Category, &str)] = &[
    (
        "海尔",
        "HR",
        "BCD-470WDPG 冰箱",
        Category::Refrigeration,
        "std",
    ),
    (
        "海尔",
        "HR",
        "EG100MATE2S 滚筒洗衣机",
        Category::Washing,
        "std",
    ),
    (
        "海尔",
        "HR",
        "KFR-35GW/81@U1 空调",
        Category::Refrigeration,
        "std",
    ),
    (
        "美的",
        "MD",
        "KFR-35GW/N8MJA3 空调",
        Category::Refrigeration,
        "std",
    ),
    (
        "美的",
        "MD",
        "BCD-508WKPZM 冰箱",
        Category::Refrigeration,
        "std",
    ),
    ("美的", "MD", "MG100V11F 洗衣机", Category::Washing, "std"),
    (
        "美的",
        "MD",
        "MB-FB40S701 电饭煲",
        Category::SmallAppliance,
        "small",
    ),
    (
        "格力",
        "GL",
        "KFR-26GW 云佳 空调",
        Category::Refrigeration,
        "gree",
    ),
    (
        "格力",
        "GL",
        "KFR-72LW 柜式空调",
        Category::Refrigeration,
        "gree",
    ),
    (
        "小天鹅",
        "LS",
        "TG100V88WMUIADY5 洗衣机",
        Category::Washing,
        "std",
    ),
    ("海信", "HX", "65E3F 电视", Category::TvAudio, "std"),
    ("海信", "HX", "75E7K 电视", Category::TvAudio, "std"),
    ("TCL", "TC", "55V8E 电视", Category::TvAudio, "std"),
    ("创维", "SW", "65A23 电视", Category::TvAudio, "std"),
    (
        "西门子",
        "SM",
        "KA92NV02TI 冰箱",
        Category::Refrigeration,
        "std",
    ),
    ("松下", "PN", "XQG100-NA5T 洗衣机", Category::Washing, "std"),
    (
        "方太",
        "FT",
        "CXW-258-EMC9 油烟机",
        Category::Kitchen,
        "kitchen",
    ),
    ("老板", "RB", "27A7 油烟机", Category::Kitchen, "kitchen"),
    (
        "苏泊尔",
        "SP",
        "SF40HC765 电饭煲",
        Category::SmallAppliance,
        "small",
    ),
    (
        "九阳",
        "JY",
        "DJ12B-D18D 豆浆机",
        Category::SmallAppliance,
        "small",
    ),
    ("理光", "RC", "MP 2555SP 复印机", Category::Copier, "copier"),
    (
        "柯尼卡美能达",
        "KM",
        "bizhub C300i 复印机",
        Category::Copier,
        "copier",
    ),
    ("夏普", "SH", "MX-M3158N 复印机", Category::Copier, "copier"),
    (
        "京瓷",
        "KY",
        "TASKalfa 2554ci 复印机",
        Category::Copier,
        "copier",
    ),
    (
        "佳能",
        "CN",
        "iR-ADV 4525 复印机",
        Category::Copier,
        "copier",
    ),
    (
        "惠普",
        "HP",
        "LaserJet Pro M404dn 打印机",
        Category::Printer,
        "printer",
    ),
    (
        "兄弟",
        "BR",
        "HL-L2350DW 打印机",
        Category::Printer,
        "printer",
    ),
    ("爱普生", "EP", "L3258 打印机", Category::Printer, "printer"),
];

fn policy_terms(key: &str) -> (i64, i64, i64, &'static [&'static str]) {
    match key {
        "gree" => (72, 72, 72, &["压缩机", "电控板"]),
        "kitchen" => (12, 60, 12, &["电机"]),
        "small" => (12, 12, 12, &[]),
        "copier" => (12, 36, 12, &["定影组件", "感光鼓", "主板"]),
        "printer" => (12, 12, 12, &[]),
        _ => (12, 36, 12, &["压缩机", "电机", "主板", "显示屏"]),
    }
}

/// A category's parts list with list prices (fen), so technicians can pick parts on a visit.
fn parts_of(cat: Category) -> serde_json::Value {
    let parts: &[(&str, i64)] = match cat {
        Category::Refrigeration => &[
            ("压缩机", 68000),
            ("电控板", 32000),
            ("门封条", 4500),
            ("温控器", 12000),
            ("风扇电机", 15000),
        ],
        Category::Washing => &[
            ("电机", 42000),
            ("主板", 28000),
            ("排水泵", 9000),
            ("门锁", 6000),
            ("减震器", 5000),
        ],
        Category::TvAudio => &[
            ("主板", 45000),
            ("显示屏", 180000),
            ("电源板", 22000),
            ("遥控器", 5000),
        ],
        Category::Copier => &[
            ("定影组件", 120000),
            ("感光鼓", 65000),
            ("主板", 90000),
            ("搓纸轮", 3000),
            ("粉盒", 28000),
        ],
        Category::Printer => &[("打印头", 40000), ("搓纸轮", 2500), ("粉盒", 18000)],
        Category::Kitchen => &[("电机", 30000), ("点火针", 2500), ("电磁阀", 8000)],
        _ => &[("加热管", 6000), ("主板", 9000), ("按键板", 3000)],
    };
    serde_json::Value::Array(
        parts
            .iter()
            .map(|(n, p)| serde_json::json!({"name": n, "price_fen": p}))
            .collect(),
    )
}

fn local(day: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    let t = day.and_time(NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default());
    chrono_tz::Asia::Shanghai
        .from_local_datetime(&t)
        .single()
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&t))
}

fn pick<'a, T>(rng: &mut StdRng, v: &'a [T]) -> &'a T {
    &v[rng.gen_range(0..v.len())]
}

fn chars(s: &str) -> Vec<char> {
    s.chars().collect()
}

struct Gen {
    rng: StdRng,
    surnames: Vec<char>,
    given: Vec<char>,
}

impl Gen {
    fn person(&mut self) -> String {
        let s = *pick(&mut self.rng, &self.surnames);
        let n = if self.rng.gen_bool(0.6) { 2 } else { 1 };
        let mut out = s.to_string();
        for _ in 0..n {
            out.push(*pick(&mut self.rng, &self.given));
        }
        out
    }
    fn company(&mut self) -> String {
        let a = *pick(&mut self.rng, COMPANY_PREFIX);
        let b: String = (0..2).map(|_| *pick(&mut self.rng, &self.given)).collect();
        let c = *pick(&mut self.rng, COMPANY_WORDS);
        let d = *pick(&mut self.rng, COMPANY_SUFFIX);
        format!("{a}{b}{c}{d}")
    }
    fn mobile(&mut self) -> String {
        let p = *pick(&mut self.rng, MOBILE);
        format!("{p}{:08}", self.rng.gen_range(0..100_000_000u32))
    }
    fn address(&mut self) -> (String, f64, f64) {
        let (d, lat, lng) = *pick(&mut self.rng, DISTRICTS);
        let road = *pick(&mut self.rng, ROADS);
        let estate = format!(
            "{}{}",
            pick(&mut self.rng, ESTATE_NAMES),
            pick(&mut self.rng, ESTATES)
        );
        let r = &mut self.rng;
        let text = format!(
            "杭州市{d}{road}{}号{estate}{}幢{}单元{}室",
            r.gen_range(1..600),
            r.gen_range(1..30),
            r.gen_range(1..5),
            r.gen_range(101..2800)
        );
        (
            text,
            lat + r.gen_range(-0.035..0.035),
            lng + r.gen_range(-0.04..0.04),
        )
    }
}

/// A simulated lifecycle step: state, actor, time, position.
type SimEvent = (Status, i64, DateTime<Utc>, Option<(f64, f64)>);
/// A simulated visit: technician, number, departed, arrived, left, outcome.
type SimVisit = (
    Option<i64>,
    i64,
    DateTime<Utc>,
    DateTime<Utc>,
    DateTime<Utc>,
    VisitOutcome,
);

fn dist2(a: (f64, f64), b: (f64, f64)) -> f64 {
    (a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)
}

/// Loads the demo data into an empty store.
pub async fn generate(app: &App, o: &DemoOptions, progress: Progress<'_>) -> Result<DemoReport> {
    let (n_users,): (i64,) = app
        .db
        .fetch_one("SELECT COUNT(*) FROM users", vec![])
        .await?;
    if n_users > 0 {
        return Err(AppError::Internal(
            "the store is not empty: demo data loads only into an empty store".into(),
        ));
    }
    let now = o.now;
    let mut g = Gen {
        rng: StdRng::seed_from_u64(o.seed),
        surnames: chars(SURNAMES),
        given: chars(GIVEN),
    };

    // ---- org units
    let stores = [
        (
            2i64,
            "S01",
            "东城店",
            "杭州市拱墅区凤起路 88 号",
            30.2800,
            120.1700,
        ),
        (
            3,
            "S02",
            "西湖店",
            "杭州市西湖区文三路 398 号",
            30.2760,
            120.1250,
        ),
        (
            4,
            "S03",
            "滨江店",
            "杭州市滨江区江南大道 1088 号",
            30.2080,
            120.2100,
        ),
    ];
    let mut tx = app.db.begin().await?;
    let mut rows = vec![args![
        1i64,
        None::<i64>,
        "head_office",
        "HQ",
        "总部",
        "杭州市上城区延安路 1 号",
        30.2500,
        120.1650,
        now,
        now
    ]];
    for (id, code, name, addr, lat, lng) in stores {
        rows.push(args![
            id,
            Some(1i64),
            "store",
            code,
            name,
            addr,
            lat,
            lng,
            now,
            now
        ]);
    }
    rows.push(args![
        5i64,
        Some(1i64),
        "partner",
        "P01",
        "顺达安装服务部",
        "杭州市余杭区五常大道 66 号",
        30.2900,
        120.0500,
        now,
        now
    ]);
    tx.bulk_insert(
        "org_units",
        &[
            "id",
            "parent_id",
            "kind",
            "code",
            "name",
            "address",
            "lat",
            "lng",
            "created_at",
            "updated_at",
        ],
        rows,
    )
    .await?;

    // ---- users (each with its own salt)
    let mut people: Vec<(String, String, Role, i64)> = vec![
        ("admin".into(), "系统管理员".into(), Role::Admin, 1),
        ("manager1".into(), "周经理".into(), Role::Manager, 1),
        ("dispatcher1".into(), "吴调度".into(), Role::Dispatcher, 1),
        ("clerk1".into(), "郑信息员".into(), Role::Clerk, 1),
        ("finance1".into(), "钱结算".into(), Role::Finance, 1),
        ("followup1".into(), "孙回访".into(), Role::Followup, 1),
        ("partner1".into(), "顺达安装".into(), Role::Partner, 5),
    ];
    for i in 1..=12 {
        let name = format!("{}师傅", g.person().chars().next().unwrap_or('王'));
        people.push((
            format!("tech{i:02}"),
            name,
            Role::Technician,
            2 + (i - 1) % 3,
        ));
    }
    let mut rows = Vec::new();
    for (i, (u, name, role, unit)) in people.iter().enumerate() {
        let pw = o.password.clone();
        let hash = tokio::task::spawn_blocking(move || hash_password(&pw))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))??;
        let phone = g.mobile();
        rows.push(args![
            i as i64 + 1,
            u.as_str(),
            name.as_str(),
            hash,
            role.as_str(),
            *unit,
            phone,
            now,
            now
        ]);
    }
    tx.bulk_insert(
        "users",
        &[
            "id",
            "username",
            "display_name",
            "password_hash",
            "role",
            "org_unit_id",
            "phone",
            "created_at",
            "updated_at",
        ],
        rows,
    )
    .await?;
    let user_id = |name: &str| {
        people
            .iter()
            .position(|p| p.0 == name)
            .map(|i| i as i64 + 1)
            .unwrap_or(1)
    };
    let (clerk, dispatcher, manager, followup, partner_user) = (
        user_id("clerk1"),
        user_id("dispatcher1"),
        user_id("manager1"),
        user_id("followup1"),
        user_id("partner1"),
    );

    // ---- technicians: skills so that every category is covered in every store
    let skill_sets: [&[Category]; 4] = [
        &[
            Category::Refrigeration,
            Category::Washing,
            Category::Kitchen,
        ],
        &[
            Category::TvAudio,
            Category::SmallAppliance,
            Category::Washing,
        ],
        &[Category::Copier, Category::Printer],
        &[
            Category::Refrigeration,
            Category::TvAudio,
            Category::Kitchen,
            Category::SmallAppliance,
        ],
    ];
    struct Tech {
        id: i64,
        user: i64,
        store: i64,
        skills: Vec<Category>,
    }
    let mut techs = Vec::new();
    let mut rows = Vec::new();
    for i in 0..12usize {
        let store = 2 + (i % 3) as i64;
        let skills = skill_sets[i / 3].to_vec();
        let (_, _, _, addr, lat, lng) = stores[(store - 2) as usize];
        let sk: Vec<&str> = skills.iter().map(|c| c.as_str()).collect();
        rows.push(args![
            i as i64 + 1,
            user_id(&format!("tech{:02}", i + 1)),
            store,
            serde_json::json!(sk).to_string(),
            addr,
            lat,
            lng,
            now,
            now
        ]);
        techs.push(Tech {
            id: i as i64 + 1,
            user: user_id(&format!("tech{:02}", i + 1)),
            store,
            skills,
        });
    }
    tx.bulk_insert(
        "technicians",
        &[
            "id",
            "user_id",
            "org_unit_id",
            "skills",
            "start_address",
            "start_lat",
            "start_lng",
            "created_at",
            "updated_at",
        ],
        rows,
    )
    .await?;

    // ---- shifts: Monday to Saturday 08:30–17:30, a year back and two weeks ahead
    let today = app.local_date(now);
    let first_day = today - Duration::days(366);
    let mut rows = Vec::new();
    let mut d = first_day;
    while d <= today + Duration::days(14) {
        if d.weekday() != Weekday::Sun {
            for t in &techs {
                // Each technician has one day off in six on a rota.
                if (d.num_days_from_ce() + t.id as i32) % 6 != 0 {
                    rows.push(args![t.id, d, local(d, 8, 30), local(d, 17, 30)]);
                }
            }
        }
        d += Duration::days(1);
    }
    tx.bulk_insert(
        "shifts",
        &["technician_id", "day", "starts_at", "ends_at"],
        rows,
    )
    .await?;

    // ---- SLA rules (the defaults, made explicit) and catalog
    shouhou_store::repo::sla::replace(&mut tx, &default_rules()).await?;
    let mut policy_ids: HashMap<(String, String), i64> = HashMap::new();
    let mut prow = Vec::new();
    for (brand, _, _, _, key) in PRODUCTS {
        let k = (brand.to_string(), key.to_string());
        if policy_ids.contains_key(&k) {
            continue;
        }
        let id = policy_ids.len() as i64 + 1;
        let (whole, main, labour, parts) = policy_terms(key);
        let name = format!("{brand} 整机{}个月 主要部件{}个月", whole, main);
        let start = if matches!(*key, "gree" | "kitchen" | "copier") {
            "install"
        } else {
            "purchase"
        };
        prow.push(args![
            id,
            name,
            format!("{brand}（中国）"),
            whole,
            main,
            serde_json::json!(parts).to_string(),
            labour,
            start,
            now,
            now
        ]);
        policy_ids.insert(k, id);
    }
    tx.bulk_insert(
        "warranty_policies",
        &[
            "id",
            "name",
            "manufacturer",
            "whole_unit_months",
            "main_parts_months",
            "main_parts",
            "labour_months",
            "starts_from",
            "created_at",
            "updated_at",
        ],
        prow,
    )
    .await?;
    let mut rows = Vec::new();
    for (i, (brand, _, model, cat, _)) in PRODUCTS.iter().enumerate() {
        let code = model.split(' ').next().unwrap_or(model);
        rows.push(args![
            i as i64 + 1,
            *brand,
            code,
            cat.as_str(),
            format!("{brand} {model}"),
            parts_of(*cat).to_string(),
            now,
            now
        ]);
    }
    tx.bulk_insert(
        "products",
        &[
            "id",
            "brand",
            "model",
            "category",
            "name",
            "parts",
            "created_at",
            "updated_at",
        ],
        rows,
    )
    .await?;
    tx.commit().await?;

    // ---- customers and devices, in chunks
    struct Dev {
        id: i64,
        customer: i64,
        store: i64,
        product: usize,
        address: i64,
        lat: f64,
        lng: f64,
        purchase: NaiveDate,
        install: Option<NaiveDate>,
        tier: Tier,
    }
    // Only the devices the history needs are kept in memory.
    let keep_every = ((o.customers as f64 * o.devices_per_customer) / 6000.0).max(1.0) as i64;
    let mut kept: Vec<Dev> = Vec::new();
    let chunk = 5_000usize;
    let mut next_device = 1i64;
    let mut next_phone = 1i64;
    let mut next_doc = 1i64;
    let total = o.customers as u64;
    let store_pos: Vec<(i64, (f64, f64))> = stores.iter().map(|s| (s.0, (s.4, s.5))).collect();
    let copier_products: Vec<usize> = (0..PRODUCTS.len())
        .filter(|i| matches!(PRODUCTS[*i].3, Category::Copier | Category::Printer))
        .collect();
    let home_products: Vec<usize> = (0..PRODUCTS.len())
        .filter(|i| !matches!(PRODUCTS[*i].3, Category::Copier | Category::Printer))
        .collect();
    let mut start = 0usize;
    while start < o.customers {
        let end = (start + chunk).min(o.customers);
        let (mut cust, mut phones, mut addrs, mut devs, mut docs) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for i in start..end {
            let id = i as i64 + 1;
            let company = g.rng.gen_bool(0.12);
            let name = if company { g.company() } else { g.person() };
            let tier = match g.rng.gen_range(0..100) {
                0..=4 => Tier::Vip,
                5..=19 => Tier::Key,
                _ => Tier::Standard,
            };
            let (addr, lat, lng) = g.address();
            let store = store_pos
                .iter()
                .min_by(|a, b| dist2(a.1, (lat, lng)).total_cmp(&dist2(b.1, (lat, lng))))
                .map(|s| s.0)
                .unwrap_or(2);
            let mut ph = vec![g.mobile()];
            if g.rng.gen_bool(0.2) {
                ph.push(if g.rng.gen_bool(0.5) {
                    g.mobile()
                } else {
                    format!("0571-{}", g.rng.gen_range(81_000_000..89_999_999))
                });
            }
            let created = now - Duration::days(g.rng.gen_range(30..2000));
            cust.push(args![
                id,
                store,
                name.as_str(),
                if company { "company" } else { "person" },
                tier.as_str(),
                created,
                created
            ]);
            for (pos, p) in ph.iter().enumerate() {
                phones.push(args![next_phone, id, p.as_str(), pos as i64]);
                next_phone += 1;
            }
            addrs.push(args![id, id, Some("家庭"), addr.as_str(), lat, lng, 0i64]);
            let (doc, cjk) = customer_doc(&name, &ph, std::slice::from_ref(&addr));
            docs.push(args![next_doc, "customer", id, store, doc, cjk]);
            next_doc += 1;
            // Devices: whole numbers around the average.
            let base = o.devices_per_customer.floor() as usize;
            let n = base + usize::from(g.rng.gen_bool(o.devices_per_customer - base as f64));
            for _ in 0..n.max(1) {
                let product = if company {
                    *pick(&mut g.rng, &copier_products)
                } else {
                    *pick(&mut g.rng, &home_products)
                };
                let (_brand, prefix, _, cat, _) = PRODUCTS[product];
                let purchase = today - Duration::days(g.rng.gen_range(1..1800));
                let install = match cat {
                    Category::Refrigeration
                    | Category::Washing
                    | Category::Kitchen
                    | Category::Copier
                    | Category::TvAudio => {
                        Some((purchase + Duration::days(g.rng.gen_range(0..6))).min(today))
                    }
                    _ => None,
                };
                let did = next_device;
                next_device += 1;
                // A bijection of the device number keeps serials unique and random-looking.
                let code = (did as u64).wrapping_mul(2_654_435_761) % 2_821_109_907_456; // 36^8
                let serial = format!("{prefix}{}{}", purchase.format("%y"), to_base36(code, 8));
                let policy = policy_ids[&(
                    PRODUCTS[product].0.to_string(),
                    PRODUCTS[product].4.to_string(),
                )];
                let token = crate::devices::new_qr_token();
                devs.push(args![
                    did,
                    store,
                    id,
                    product as i64 + 1,
                    PRODUCTS[product].0,
                    serial.as_str(),
                    Some(id),
                    purchase,
                    Some(store),
                    install,
                    policy,
                    token,
                    created,
                    created
                ]);
                docs.push(args![next_doc, "device", did, store, serial, ""]);
                next_doc += 1;
                if did % keep_every == 0 {
                    kept.push(Dev {
                        id: did,
                        customer: id,
                        store,
                        product,
                        address: id,
                        lat,
                        lng,
                        purchase,
                        install,
                        tier,
                    });
                }
            }
        }
        let mut tx = app.db.begin().await?;
        tx.bulk_insert(
            "customers",
            &[
                "id",
                "org_unit_id",
                "name",
                "kind",
                "tier",
                "created_at",
                "updated_at",
            ],
            cust,
        )
        .await?;
        tx.bulk_insert(
            "customer_phones",
            &["id", "customer_id", "phone", "position"],
            phones,
        )
        .await?;
        tx.bulk_insert(
            "customer_addresses",
            &[
                "id",
                "customer_id",
                "label",
                "address",
                "lat",
                "lng",
                "position",
            ],
            addrs,
        )
        .await?;
        tx.bulk_insert(
            "devices",
            &[
                "id",
                "org_unit_id",
                "customer_id",
                "product_id",
                "brand",
                "serial",
                "site_address_id",
                "purchase_date",
                "purchase_store_id",
                "install_date",
                "policy_id",
                "qr_token",
                "created_at",
                "updated_at",
            ],
            devs,
        )
        .await?;
        tx.bulk_insert(
            "search_docs",
            &["id", "kind", "ref_id", "org_unit_id", "doc", "cjk"],
            docs,
        )
        .await?;
        tx.commit().await?;
        progress("customers", end as u64, total);
        start = end;
    }
    let n_devices = (next_device - 1) as usize;

    // ---- a year of work orders, simulated visit by visit
    let rules = default_rules();
    let span_days = 365i64;
    let mut orders: Vec<(DateTime<Utc>, usize)> = (0..o.orders)
        .map(|_| {
            let d = today - Duration::days(g.rng.gen_range(0..span_days));
            let minute = g.rng.gen_range(8 * 60..20 * 60);
            (
                local(d, minute / 60, minute % 60),
                g.rng.gen_range(0..kept.len().max(1)),
            )
        })
        .filter(|(t, _)| *t < now)
        .collect();
    orders.sort_by_key(|o| o.0);
    let mut busy: HashMap<(i64, NaiveDate), DateTime<Utc>> = HashMap::new();
    let (mut wo_rows, mut ev_rows, mut visit_rows) = (Vec::new(), Vec::new(), Vec::new());
    let mut counters: HashMap<NaiveDate, i64> = HashMap::new();
    let mut n_visits = 0usize;
    let total_orders = orders.len() as u64;
    for (idx, (created, dev_i)) in orders.iter().enumerate() {
        let Some(dev) = kept.get(*dev_i) else { break };
        let id = idx as i64 + 1;
        let created = *created;
        let cat = PRODUCTS[dev.product].3;
        let kind = match g.rng.gen_range(0..100) {
            0..=44 => WorkOrderType::RepairOnsite,
            45..=66 => WorkOrderType::Install,
            67..=77 => WorkOrderType::RepairPhone,
            78..=87 => WorkOrderType::Maintenance,
            88..=93 => WorkOrderType::Replacement,
            _ => WorkOrderType::Inspection,
        };
        let priority = if g.rng.gen_bool(0.15) {
            Priority::Urgent
        } else {
            Priority::Normal
        };
        let sla = deadlines(&pick_rule(&rules, priority, dev.tier), created, None);
        let (_, _, _, _, pkey) = PRODUCTS[dev.product];
        let (whole, main, labour, _) = policy_terms(pkey);
        let terms = WarrantyTerms {
            whole_unit_months: whole as u32,
            main_parts_months: main as u32,
            labour_months: labour as u32,
            starts_from: if matches!(pkey, "gree" | "kitchen" | "copier") {
                WarrantyStart::Install
            } else {
                WarrantyStart::Purchase
            },
        };
        let warranty = terms.decide(dev.purchase, dev.install, app.local_date(created));
        let day = app.local_date(created);
        let seq = counters.entry(day).or_insert(0);
        *seq += 1;
        let number = work_order_number::format(day, *seq);
        let fault = match kind {
            WorkOrderType::Install => "新机安装".to_string(),
            WorkOrderType::Maintenance => "定期保养".to_string(),
            WorkOrderType::Inspection => "巡检".to_string(),
            WorkOrderType::Replacement => "整机更换".to_string(),
            _ => pick(&mut g.rng, fault_texts(cat)).to_string(),
        };

        // The events of the order's life, cut off at `now`.
        let mut ev: Vec<SimEvent> = vec![(Status::New, clerk, created, None)];
        let mut visits: Vec<SimVisit> = Vec::new();
        let mut technician: Option<i64> = None;
        let mut partner: Option<i64> = None;
        let mut cancel_reason = None;
        if g.rng.gen_bool(0.03) {
            ev.push((
                Status::Cancelled,
                clerk,
                created + Duration::minutes(g.rng.gen_range(10..600)),
                None,
            ));
            cancel_reason = Some("客户取消".to_string());
        } else if created > now - Duration::hours(5) && g.rng.gen_bool(0.6) {
            // The dispatcher has not got to it yet.
        } else if kind == WorkOrderType::RepairPhone {
            let acc = created + Duration::minutes(g.rng.gen_range(3..90));
            let done = acc + Duration::minutes(g.rng.gen_range(10..40));
            ev.push((Status::Accepted, clerk, acc, None));
            ev.push((Status::Completed, clerk, done, None));
            review_and_close(&mut g.rng, &mut ev, done, manager, followup);
        } else {
            let skilled: Vec<&Tech> = techs.iter().filter(|t| t.skills.contains(&cat)).collect();
            let local_techs: Vec<&Tech> = skilled
                .iter()
                .copied()
                .filter(|t| t.store == dev.store)
                .collect();
            let by_partner = kind == WorkOrderType::Install && g.rng.gen_bool(0.3);
            let tech = if local_techs.is_empty() {
                *pick(&mut g.rng, &skilled)
            } else {
                *pick(&mut g.rng, &local_techs)
            };
            let (doer, tech_id) = if by_partner {
                (partner_user, None)
            } else {
                (tech.user, Some(tech.id))
            };
            technician = tech_id;
            partner = by_partner.then_some(5);
            let mut t = created + Duration::minutes(g.rng.gen_range(5..60));
            let mut visit_no = 0;
            loop {
                visit_no += 1;
                ev.push((Status::Assigned, dispatcher, t, None));
                let acc = t + Duration::minutes(g.rng.gen_range(3..60));
                ev.push((Status::Accepted, doer, acc, None));
                // The visit: the first free slot of the technician from the appointment day.
                let mut vday = app.local_date(acc);
                if priority == Priority::Normal && g.rng.gen_bool(0.55) {
                    vday += Duration::days(1);
                }
                let slot_key = tech_id.unwrap_or(100 + (visit_no % 4));
                let (departed, arrived, left) = loop {
                    if vday.weekday() == Weekday::Sun {
                        vday += Duration::days(1);
                        continue;
                    }
                    let start = busy
                        .get(&(slot_key, vday))
                        .copied()
                        .unwrap_or(local(vday, 8, 30))
                        .max(acc + Duration::minutes(5));
                    let travel = Duration::minutes(g.rng.gen_range(15..55));
                    let onsite = Duration::minutes(match kind {
                        WorkOrderType::Install => g.rng.gen_range(50..150),
                        WorkOrderType::Maintenance => g.rng.gen_range(40..90),
                        WorkOrderType::Inspection => g.rng.gen_range(25..60),
                        WorkOrderType::Replacement => g.rng.gen_range(45..100),
                        _ => g.rng.gen_range(30..120),
                    });
                    let arrived = start + travel;
                    let left = arrived + onsite;
                    if left <= local(vday, 17, 30) {
                        busy.insert((slot_key, vday), left);
                        break (start, arrived, left);
                    }
                    vday += Duration::days(1);
                };
                let outcome = if visit_no >= 3 {
                    VisitOutcome::Fixed
                } else if kind == WorkOrderType::RepairOnsite && visit_no == 1 {
                    match g.rng.gen_range(0..100) {
                        0..=77 => VisitOutcome::Fixed,
                        78..=88 => VisitOutcome::NeedsParts,
                        89..=93 => VisitOutcome::NeedsRevisit,
                        94..=96 => VisitOutcome::CustomerAbsent,
                        _ => VisitOutcome::NotFixable,
                    }
                } else {
                    match g.rng.gen_range(0..100) {
                        0..=93 => VisitOutcome::Fixed,
                        94..=97 => VisitOutcome::NeedsRevisit,
                        _ => VisitOutcome::CustomerAbsent,
                    }
                };
                let pos = (
                    dev.lat + g.rng.gen_range(-0.0005..0.0005),
                    dev.lng + g.rng.gen_range(-0.0005..0.0005),
                );
                ev.push((Status::EnRoute, doer, departed, None));
                ev.push((Status::OnSite, doer, arrived, Some(pos)));
                visits.push((tech_id, visit_no, departed, arrived, left, outcome));
                if matches!(outcome, VisitOutcome::Fixed | VisitOutcome::NotFixable) {
                    ev.push((Status::Completed, doer, left, None));
                    review_and_close(&mut g.rng, &mut ev, left, manager, followup);
                    break;
                }
                ev.push((Status::WaitingParts, doer, left, None));
                t = left + Duration::hours(g.rng.gen_range(18..96));
            }
        }
        ev.retain(|e| e.2 <= now);
        visits.retain(|v| v.2 <= now);
        let status = ev.last().map(|e| e.0).unwrap_or(Status::New);
        let at = |s: Status| ev.iter().find(|e| e.0 == s).map(|e| e.2);
        let last_at = ev.last().map(|e| e.2).unwrap_or(created);
        let findings = format!("现场检查：{fault}");
        wo_rows.push(vec![
            Arg::from(id),
            number.into(),
            dev.store.into(),
            dev.customer.into(),
            Some(dev.id).into(),
            Some(dev.address).into(),
            kind.as_str().into(),
            if kind == WorkOrderType::Install {
                "sales"
            } else {
                "phone"
            }
            .into(),
            priority.as_str().into(),
            status.as_str().into(),
            fault.into(),
            sla.respond_by.into(),
            sla.arrive_by.into(),
            sla.resolve_by.into(),
            warranty.as_str().into(),
            (if status == Status::New {
                None
            } else {
                technician
            })
            .into(),
            (if status == Status::New { None } else { partner }).into(),
            clerk.into(),
            created.into(),
            last_at.into(),
            at(Status::Accepted).into(),
            at(Status::Completed).into(),
            at(Status::Reviewed).into(),
            at(Status::Closed).into(),
            at(Status::Cancelled).into(),
            (if status == Status::Cancelled {
                cancel_reason
            } else {
                None
            })
            .into(),
            (ev.len() as i64).into(),
        ]);
        let mut prev: Option<Status> = None;
        for (s, actor, t, pos) in &ev {
            ev_rows.push(args![
                id,
                prev.map(|p| p.as_str()),
                s.as_str(),
                *actor,
                *t,
                pos.map(|p| p.0),
                pos.map(|p| p.1)
            ]);
            prev = Some(*s);
        }
        for (tech_id, seq, dep, arr, left, outcome) in &visits {
            let done = *left <= now;
            let arrived = (*arr <= now).then_some(*arr);
            visit_rows.push(args![
                id,
                *tech_id,
                *seq,
                *dep,
                arrived,
                arrived.map(|_| dev.lat),
                arrived.map(|_| dev.lng),
                done.then_some(*left),
                done.then_some(outcome.as_str()),
                done.then(|| findings.clone()),
                done.then(|| work_done(*outcome).to_string()),
                done.then(|| (*left - *arr).num_minutes()),
                // The customer signed the fixed visits on the technician's phone.
                (done && *outcome == VisitOutcome::Fixed).then(|| DEMO_SIGNATURE.to_string()),
                (done && *outcome == VisitOutcome::Fixed).then(|| "客户本人".to_string())
            ]);
            n_visits += 1;
        }
        if wo_rows.len() >= 2_000 || idx + 1 == orders.len() {
            let mut tx = app.db.begin().await?;
            tx.bulk_insert(
                "work_orders",
                &[
                    "id",
                    "number",
                    "org_unit_id",
                    "customer_id",
                    "device_id",
                    "address_id",
                    "kind",
                    "channel",
                    "priority",
                    "status",
                    "fault_description",
                    "respond_by",
                    "arrive_by",
                    "resolve_by",
                    "warranty_decision",
                    "technician_id",
                    "partner_unit_id",
                    "created_by",
                    "created_at",
                    "updated_at",
                    "accepted_at",
                    "completed_at",
                    "reviewed_at",
                    "closed_at",
                    "cancelled_at",
                    "cancel_reason",
                    "version",
                ],
                std::mem::take(&mut wo_rows),
            )
            .await?;
            tx.bulk_insert(
                "work_order_events",
                &[
                    "work_order_id",
                    "from_status",
                    "to_status",
                    "actor_id",
                    "at",
                    "lat",
                    "lng",
                ],
                std::mem::take(&mut ev_rows),
            )
            .await?;
            tx.bulk_insert(
                "visits",
                &[
                    "work_order_id",
                    "technician_id",
                    "seq",
                    "departed_at",
                    "arrived_at",
                    "arrived_lat",
                    "arrived_lng",
                    "left_at",
                    "outcome",
                    "findings",
                    "work_done",
                    "labour_minutes",
                    "signature",
                    "signed_by",
                ],
                std::mem::take(&mut visit_rows),
            )
            .await?;
            tx.commit().await?;
            progress("work orders", idx as u64 + 1, total_orders);
        }
    }

    // ---- counters, identities, one audit entry for the load
    let mut tx = app.db.begin().await?;
    let counter_rows: Vec<Vec<Arg>> = counters
        .iter()
        .map(|(d, n)| args![work_order_number::day_key(*d), *n])
        .collect();
    tx.bulk_insert("wo_counters", &["day", "last"], counter_rows)
        .await?;
    after_service(
        &mut tx,
        &mut g.rng,
        now,
        user_id("manager1"),
        user_id("followup1"),
        user_id("tech01"),
    )
    .await?;
    for t in [
        "org_units",
        "users",
        "technicians",
        "shifts",
        "warranty_policies",
        "products",
        "customers",
        "customer_phones",
        "customer_addresses",
        "devices",
        "search_docs",
        "work_orders",
        "work_order_events",
        "visits",
        "sla_rules",
        "opportunities",
        "follow_ups",
        "complaints",
        "kb_articles",
    ] {
        tx.reset_identity(t).await?;
    }
    shouhou_store::repo::audit::insert(
        &mut tx,
        "system",
        0,
        "demo_load",
        None,
        now,
        &serde_json::json!({"seed": o.seed, "customers": o.customers, "devices": n_devices, "work_orders": orders.len(), "visits": n_visits}),
    )
    .await?;
    tx.commit().await?;
    progress("optimising the lookup index", 0, 1);
    if app.db.backend() == shouhou_store::Backend::Sqlite {
        app.db
            .execute(
                "INSERT INTO search_tri(search_tri) VALUES ('optimize')",
                vec![],
            )
            .await?;
        app.db
            .execute(
                "INSERT INTO search_cjk(search_cjk) VALUES ('optimize')",
                vec![],
            )
            .await?;
        app.db.execute("PRAGMA optimize", vec![]).await?;
    } else {
        app.db.execute("ANALYZE", vec![]).await?;
    }
    progress("optimising the lookup index", 1, 1);
    Ok(DemoReport {
        logins: people.iter().map(|p| (p.0.clone(), p.2)).collect(),
        customers: o.customers,
        devices: n_devices,
        work_orders: orders.len(),
        visits: n_visits,
    })
}

fn review_and_close(
    rng: &mut StdRng,
    ev: &mut Vec<SimEvent>,
    done: DateTime<Utc>,
    manager: i64,
    followup: i64,
) {
    let reviewed = done + Duration::minutes(rng.gen_range(60..2 * 24 * 60));
    ev.push((Status::Reviewed, manager, reviewed, None));
    ev.push((
        Status::Closed,
        followup,
        reviewed + Duration::minutes(rng.gen_range(60..4 * 24 * 60)),
        None,
    ));
}

/// A completed order: id, customer, unit, completed at.
type Done = (i64, i64, i64, DateTime<Utc>);

/// After the visits: follow-up answers for most completed orders (a dissatisfied one opens a
/// complaint owned by the manager), sales leads on some, and a small knowledge base.
async fn after_service(
    tx: &mut Tx,
    rng: &mut StdRng,
    now: DateTime<Utc>,
    manager: i64,
    followup: i64,
    tech: i64,
) -> Result<()> {
    let done: Vec<Done> = tx
        .fetch_all(
            "SELECT id, customer_id, org_unit_id, completed_at FROM work_orders \
             WHERE status IN ('completed', 'reviewed', 'closed') AND completed_at IS NOT NULL ORDER BY id",
            vec![],
        )
        .await?;
    let (mut fu, mut ks, mut leads) = (Vec::new(), Vec::new(), Vec::new());
    let comments = [
        "师傅很专业",
        "准时到达，态度好",
        "维修及时",
        "",
        "等了比较久",
        "收费有点贵",
    ];
    for &(id, customer_id, org_unit_id, completed_at) in &done {
        let at = completed_at + Duration::hours(rng.gen_range(20..60));
        if at <= now && rng.gen_bool(0.6) {
            let rating = match rng.gen_range(0..100) {
                0..=54 => Rating::VerySatisfied,
                55..=89 => Rating::Satisfied,
                90..=96 => Rating::Neutral,
                _ => Rating::Dissatisfied,
            };
            let comment = if rating == Rating::Dissatisfied {
                ["师傅迟到太久", "修完第二天又坏了", "收费不透明"][rng.gen_range(0..3)]
            } else {
                comments[rng.gen_range(0..comments.len())]
            };
            let fid = fu.len() as i64 + 1;
            fu.push(args![
                fid,
                id,
                rating.as_str(),
                (!comment.is_empty()).then_some(comment),
                "phone",
                followup,
                at
            ]);
            if rating == Rating::Dissatisfied {
                let closed = (at + Duration::days(3) <= now).then(|| at + Duration::days(3));
                ks.push(args![
                    id,
                    fid,
                    org_unit_id,
                    manager,
                    if closed.is_some() { "closed" } else { "open" },
                    comment,
                    at,
                    closed
                ]);
            }
        }
        if rng.gen_bool(0.05) {
            let kind = *pick(rng, OpportunityKind::ALL);
            let value: i64 = match kind {
                OpportunityKind::TradeIn | OpportunityKind::ReplacementDue => {
                    rng.gen_range(2_000..9_000) * 100
                }
                OpportunityKind::MaintenanceContract => rng.gen_range(300..1_500) * 100,
                OpportunityKind::Consumables => rng.gen_range(50..600) * 100,
            };
            let status = if completed_at < now - Duration::days(30) {
                ["won", "lost", "open"][rng.gen_range(0..3)]
            } else {
                "open"
            };
            leads.push(args![
                id,
                customer_id,
                org_unit_id,
                format!("demo-{id}"),
                kind.as_str(),
                value,
                Option::<String>::None,
                status,
                tech,
                completed_at,
                completed_at
            ]);
        }
    }
    tx.bulk_insert(
        "follow_ups",
        &[
            "id",
            "work_order_id",
            "rating",
            "comment",
            "channel",
            "user_id",
            "at",
        ],
        fu,
    )
    .await?;
    tx.bulk_insert(
        "complaints",
        &[
            "work_order_id",
            "follow_up_id",
            "org_unit_id",
            "owner_id",
            "status",
            "description",
            "created_at",
            "closed_at",
        ],
        ks,
    )
    .await?;
    tx.bulk_insert(
        "opportunities",
        &[
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
        ],
        leads,
    )
    .await?;
    let kb: &[(Category, &str, &str, &str, &str)] = &[
        (
            Category::Refrigeration,
            "冰箱不制冷",
            "压缩机不启动，冷藏室温度高",
            "启动继电器或过载保护器损坏",
            "测量继电器通断，更换启动继电器；检查电压是否正常",
        ),
        (
            Category::Refrigeration,
            "冰箱冷藏室结冰",
            "冷藏室后壁结冰，食物冻坏",
            "温控器失灵或门封不严",
            "检查门封条密封；校准或更换温控器",
        ),
        (
            Category::Washing,
            "洗衣机不脱水",
            "脱水时报 E21/UE，滚筒不转",
            "衣物偏心或排水不畅",
            "重新摆放衣物；清理排水泵过滤器",
        ),
        (
            Category::Washing,
            "洗衣机漏水",
            "底部有水渍",
            "进水管接头松动或门封老化",
            "紧固接头；更换门封圈",
        ),
        (
            Category::TvAudio,
            "电视有声无图",
            "开机有声音，屏幕黑屏",
            "背光灯条或电源板故障",
            "手电照屏看是否有图像；更换灯条或电源板",
        ),
        (
            Category::Copier,
            "复印机卡纸",
            "纸张在定影区卡住，报 J 代码",
            "定影组件磨损或搓纸轮老化",
            "清洁搓纸轮；检查定影膜，必要时更换定影组件",
        ),
        (
            Category::Copier,
            "复印件有黑线",
            "复印件同一位置有纵向黑线",
            "扫描玻璃或感光鼓有污渍、划痕",
            "清洁扫描玻璃；检查并更换感光鼓",
        ),
        (
            Category::Printer,
            "打印模糊",
            "字迹发淡、有底灰",
            "粉盒将尽或打印头脏污",
            "更换粉盒；运行打印头清洗",
        ),
        (
            Category::Kitchen,
            "燃气灶打不着火",
            "点火有声音但不着火",
            "点火针积碳或电磁阀故障",
            "清洁点火针；检查热电偶和电磁阀",
        ),
        (
            Category::SmallAppliance,
            "电饭煲不加热",
            "通电指示灯亮但不加热",
            "温控器或加热盘损坏",
            "检测加热盘电阻，更换温控器",
        ),
    ];
    let rows = kb
        .iter()
        .map(|(c, title, symptom, cause, fix)| {
            args![
                c.as_str(),
                *title,
                *symptom,
                *cause,
                *fix,
                manager,
                now,
                now
            ]
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

/// A short signature stroke for demo reports.
const DEMO_SIGNATURE: &str = "M40 150 L70 90 L95 160 L130 80 L160 150 L200 95 L240 140 L300 120";

/// What the technician wrote as work done, by the visit's outcome.
fn work_done(o: VisitOutcome) -> &'static str {
    match o {
        VisitOutcome::Fixed => "排除故障，试机正常，已向客户说明使用注意事项",
        VisitOutcome::NeedsParts => "确认故障配件，已申请备件，待到货后再次上门",
        VisitOutcome::NeedsRevisit => "初步处理，需再次上门复查",
        VisitOutcome::NotFixable => "无法修复，建议客户更换新机",
        VisitOutcome::CustomerAbsent => "客户不在家，已电话联系改约",
    }
}

fn fault_texts(c: Category) -> &'static [&'static str] {
    match c {
        Category::Refrigeration => &[
            "不制冷",
            "制冷效果差",
            "噪音大",
            "漏水",
            "显示故障代码 E1",
            "压缩机不启动",
            "结霜严重",
        ],
        Category::Washing => &[
            "不脱水",
            "不进水",
            "排水慢",
            "运转噪音大",
            "门锁打不开",
            "显示 E21",
        ],
        Category::TvAudio => &[
            "无图像有声音",
            "开机黑屏",
            "屏幕有竖线",
            "遥控失灵",
            "无法连接网络",
        ],
        Category::Kitchen => &["吸力变小", "不点火", "异响", "漏油"],
        Category::SmallAppliance => &["不加热", "无法开机", "按键失灵"],
        Category::Copier => &[
            "卡纸",
            "复印有黑线",
            "显示 SC542 代码",
            "进纸异常",
            "扫描无法发送邮件",
            "碳粉不足报警",
        ],
        Category::Printer => &["卡纸", "打印模糊", "无法联网打印", "不进纸"],
    }
}

fn to_base36(mut n: u64, width: usize) -> String {
    const D: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut out = vec![b'0'; width];
    for slot in out.iter_mut().rev() {
        *slot = D[(n % 36) as usize];
        n /= 36;
    }
    String::from_utf8(out).unwrap_or_default()
}
