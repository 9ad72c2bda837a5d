//! The user's language. zh-CN first, English available.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub enum Lang {
    #[default]
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "en")]
    En,
}

impl Lang {
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }

    /// Parses a stored setting or an `Accept-Language` header; zh is the default.
    pub fn from_header(value: &str) -> Lang {
        for part in value.split(',') {
            let tag = part
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if tag.starts_with("zh") {
                return Lang::ZhCn;
            }
            if tag.starts_with("en") {
                return Lang::En;
            }
        }
        Lang::ZhCn
    }

    /// Picks the text for this language.
    pub fn pick(self, zh: &str, en: &str) -> String {
        match self {
            Lang::ZhCn => zh.to_string(),
            Lang::En => en.to_string(),
        }
    }
}
