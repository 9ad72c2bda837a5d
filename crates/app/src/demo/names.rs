//! The demo's text tables: names, addresses, phone numbers, the product range with its warranty
//! terms and parts lists, fault descriptions and report texts.

use rand::rngs::StdRng;
use rand::Rng;
use shouhou_domain::{Category, VisitOutcome};

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

/// A district: name, centre, the store that serves it, its share of customers (%) and the share
/// of companies among them (%).
pub struct District {
    pub name: &'static str,
    pub lat: f64,
    pub lng: f64,
    pub store: i64,
    pub weight: u32,
    pub companies: u32,
}

const fn d(name: &'static str, lat: f64, lng: f64, store: i64, weight: u32, co: u32) -> District {
    District {
        name,
        lat,
        lng,
        store,
        weight,
        companies: co,
    }
}

/// Stores 2 东城, 3 西湖, 4 滨江 serve 25 %, 42 % and 33 % of the customers, as their crews are
/// three, five and four technicians; the offices around 文三路 make 西湖 the copier store.
pub const DISTRICTS: &[District] = &[
    d("上城区", 30.2425, 120.1691, 2, 12, 10),
    d("拱墅区", 30.3195, 120.1419, 2, 13, 10),
    d("西湖区", 30.2594, 120.1302, 3, 25, 24),
    d("余杭区", 30.2850, 120.0750, 3, 17, 16),
    d("滨江区", 30.2084, 120.2107, 4, 19, 12),
    d("萧山区", 30.1837, 120.2646, 4, 14, 6),
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

/// One model of the product range.
pub struct Model {
    pub brand: &'static str,
    pub prefix: &'static str,
    pub model: &'static str,
    pub category: Category,
    /// Key of the warranty terms ([`policy_terms`]).
    pub policy: &'static str,
}

const fn m(
    brand: &'static str,
    prefix: &'static str,
    model: &'static str,
    category: Category,
    policy: &'static str,
) -> Model {
    Model {
        brand,
        prefix,
        model,
        category,
        policy,
    }
}

use Category::*;
pub const PRODUCTS: &[Model] = &[
    m("海尔", "HR", "BCD-470WDPG 冰箱", Refrigeration, "std"),
    m("海尔", "HR", "EG100MATE2S 滚筒洗衣机", Washing, "std"),
    m("海尔", "HR", "KFR-35GW/81@U1 空调", Refrigeration, "std"),
    m("美的", "MD", "KFR-35GW/N8MJA3 空调", Refrigeration, "std"),
    m("美的", "MD", "BCD-508WKPZM 冰箱", Refrigeration, "std"),
    m("美的", "MD", "MG100V11F 洗衣机", Washing, "std"),
    m("美的", "MD", "MB-FB40S701 电饭煲", SmallAppliance, "small"),
    m("格力", "GL", "KFR-26GW 云佳 空调", Refrigeration, "gree"),
    m("格力", "GL", "KFR-72LW 柜式空调", Refrigeration, "gree"),
    m("小天鹅", "LS", "TG100V88WMUIADY5 洗衣机", Washing, "std"),
    m("海信", "HX", "65E3F 电视", TvAudio, "std"),
    m("海信", "HX", "75E7K 电视", TvAudio, "std"),
    m("TCL", "TC", "55V8E 电视", TvAudio, "std"),
    m("创维", "SW", "65A23 电视", TvAudio, "std"),
    m("西门子", "SM", "KA92NV02TI 冰箱", Refrigeration, "std"),
    m("松下", "PN", "XQG100-NA5T 洗衣机", Washing, "std"),
    m("方太", "FT", "CXW-258-EMC9 油烟机", Kitchen, "kitchen"),
    m("老板", "RB", "27A7 油烟机", Kitchen, "kitchen"),
    m("苏泊尔", "SP", "SF40HC765 电饭煲", SmallAppliance, "small"),
    m("九阳", "JY", "DJ12B-D18D 豆浆机", SmallAppliance, "small"),
    m("理光", "RC", "MP 2555SP 复印机", Copier, "copier"),
    m(
        "柯尼卡美能达",
        "KM",
        "bizhub C300i 复印机",
        Copier,
        "copier",
    ),
    m("夏普", "SH", "MX-M3158N 复印机", Copier, "copier"),
    m("京瓷", "KY", "TASKalfa 2554ci 复印机", Copier, "copier"),
    m("佳能", "CN", "iR-ADV 4525 复印机", Copier, "copier"),
    m(
        "惠普",
        "HP",
        "LaserJet Pro M404dn 打印机",
        Printer,
        "printer",
    ),
    m("兄弟", "BR", "HL-L2350DW 打印机", Printer, "printer"),
    m("爱普生", "EP", "L3258 打印机", Printer, "printer"),
];

/// Warranty terms by policy key: whole-unit, main-parts and labour months, the main parts.
pub fn policy_terms(key: &str) -> (i64, i64, i64, &'static [&'static str]) {
    match key {
        "gree" => (72, 72, 72, &["压缩机", "电控板"]),
        "kitchen" => (12, 60, 12, &["电机"]),
        "small" => (12, 12, 12, &[]),
        "copier" => (12, 36, 12, &["定影组件", "感光鼓", "主板"]),
        "printer" => (12, 12, 12, &[]),
        _ => (12, 36, 12, &["压缩机", "电机", "主板", "显示屏"]),
    }
}

/// Whether the policy's warranty runs from the install date rather than the purchase date.
pub fn starts_at_install(key: &str) -> bool {
    matches!(key, "gree" | "kitchen" | "copier")
}

/// A category's parts list with list prices (fen), so technicians can pick parts on a visit.
pub fn parts_of(cat: Category) -> &'static [(&'static str, i64)] {
    match cat {
        Refrigeration => &[
            ("压缩机", 68000),
            ("电控板", 32000),
            ("门封条", 4500),
            ("温控器", 12000),
            ("风扇电机", 15000),
        ],
        Washing => &[
            ("电机", 42000),
            ("主板", 28000),
            ("排水泵", 9000),
            ("门锁", 6000),
            ("减震器", 5000),
        ],
        TvAudio => &[
            ("主板", 45000),
            ("显示屏", 180000),
            ("电源板", 22000),
            ("遥控器", 5000),
        ],
        Copier => &[
            ("定影组件", 120000),
            ("感光鼓", 65000),
            ("主板", 90000),
            ("搓纸轮", 3000),
            ("粉盒", 28000),
        ],
        Printer => &[("打印头", 40000), ("搓纸轮", 2500), ("粉盒", 18000)],
        Kitchen => &[("电机", 30000), ("点火针", 2500), ("电磁阀", 8000)],
        SmallAppliance => &[("加热管", 6000), ("主板", 9000), ("按键板", 3000)],
    }
}

pub fn parts_json(cat: Category) -> serde_json::Value {
    serde_json::Value::Array(
        parts_of(cat)
            .iter()
            .map(|(n, p)| serde_json::json!({"name": n, "price_fen": p}))
            .collect(),
    )
}

pub fn fault_texts(c: Category) -> &'static [&'static str] {
    match c {
        Refrigeration => &[
            "不制冷",
            "制冷效果差",
            "噪音大",
            "漏水",
            "显示故障代码 E1",
            "压缩机不启动",
            "结霜严重",
        ],
        Washing => &[
            "不脱水",
            "不进水",
            "排水慢",
            "运转噪音大",
            "门锁打不开",
            "显示 E21",
        ],
        TvAudio => &[
            "无图像有声音",
            "开机黑屏",
            "屏幕有竖线",
            "遥控失灵",
            "无法连接网络",
        ],
        Kitchen => &["吸力变小", "不点火", "异响", "漏油"],
        SmallAppliance => &["不加热", "无法开机", "按键失灵"],
        Copier => &[
            "卡纸",
            "复印有黑线",
            "显示 SC542 代码",
            "进纸异常",
            "扫描无法发送邮件",
            "碳粉不足报警",
        ],
        Printer => &["卡纸", "打印模糊", "无法联网打印", "不进纸"],
    }
}

/// What the technician wrote as work done, by the visit's outcome.
pub fn work_done(o: VisitOutcome) -> &'static str {
    match o {
        VisitOutcome::Fixed => "排除故障，试机正常，已向客户说明使用注意事项",
        VisitOutcome::NeedsParts => "确认故障配件，已申请备件，待到货后再次上门",
        VisitOutcome::NeedsRevisit => "初步处理，需再次上门复查",
        VisitOutcome::NotFixable => "无法修复，建议客户更换新机",
        VisitOutcome::CustomerAbsent => "客户不在家，已电话联系改约",
    }
}

/// A short signature stroke for demo reports.
pub const SIGNATURE: &str = "M40 150 L70 90 L95 160 L130 80 L160 150 L200 95 L240 140 L300 120";

pub fn pick<'a, T>(rng: &mut StdRng, v: &'a [T]) -> &'a T {
    &v[rng.gen_range(0..v.len())]
}

/// Picks an index with probability proportional to its weight (the first when all are zero).
pub fn weighted(rng: &mut StdRng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    if total <= 0.0 {
        return 0;
    }
    let mut x = rng.gen_range(0.0..total);
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

pub fn to_base36(mut n: u64, width: usize) -> String {
    const D: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut out = vec![b'0'; width];
    for slot in out.iter_mut().rev() {
        *slot = D[(n % 36) as usize];
        n /= 36;
    }
    String::from_utf8(out).unwrap_or_default()
}

/// People, companies, phones and addresses.
pub struct Names {
    surnames: Vec<char>,
    given: Vec<char>,
}

impl Names {
    pub fn new() -> Names {
        Names {
            surnames: SURNAMES.chars().collect(),
            given: GIVEN.chars().collect(),
        }
    }

    pub fn surname(&self, rng: &mut StdRng) -> char {
        *pick(rng, &self.surnames)
    }

    pub fn person(&self, rng: &mut StdRng) -> String {
        let mut out = self.surname(rng).to_string();
        let n = if rng.gen_bool(0.6) { 2 } else { 1 };
        for _ in 0..n {
            out.push(*pick(rng, &self.given));
        }
        out
    }

    pub fn company(&self, rng: &mut StdRng) -> String {
        let a = *pick(rng, COMPANY_PREFIX);
        let b: String = (0..2).map(|_| *pick(rng, &self.given)).collect();
        let c = *pick(rng, COMPANY_WORDS);
        let d = *pick(rng, COMPANY_SUFFIX);
        format!("{a}{b}{c}{d}")
    }

    pub fn mobile(&self, rng: &mut StdRng) -> String {
        let p = *pick(rng, MOBILE);
        format!("{p}{:08}", rng.gen_range(0..100_000_000u32))
    }

    /// An address in a district: text, latitude, longitude.
    pub fn address(&self, rng: &mut StdRng, d: &District) -> (String, f64, f64) {
        let road = *pick(rng, ROADS);
        let estate = format!("{}{}", pick(rng, ESTATE_NAMES), pick(rng, ESTATES));
        let text = format!(
            "杭州市{}{road}{}号{estate}{}幢{}单元{}室",
            d.name,
            rng.gen_range(1..600),
            rng.gen_range(1..30),
            rng.gen_range(1..5),
            rng.gen_range(101..2800)
        );
        (
            text,
            d.lat + rng.gen_range(-0.028..0.028),
            d.lng + rng.gen_range(-0.032..0.032),
        )
    }
}
