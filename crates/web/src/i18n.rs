//! Message catalogs of the pages: every visible string comes from `locales/{zh-CN,en}.json`.

use std::collections::HashMap;
use std::sync::OnceLock;

use shouhou_domain::Lang;

fn catalog(lang: Lang) -> &'static HashMap<String, String> {
    static ZH: OnceLock<HashMap<String, String>> = OnceLock::new();
    static EN: OnceLock<HashMap<String, String>> = OnceLock::new();
    let (cell, text) = match lang {
        Lang::ZhCn => (&ZH, include_str!("../locales/zh-CN.json")),
        Lang::En => (&EN, include_str!("../locales/en.json")),
    };
    cell.get_or_init(|| serde_json::from_str(text).unwrap_or_default())
}

/// The catalog of one language; a missing key shows as the key itself (and fails the test below).
#[derive(Debug, Clone, Copy)]
pub struct T(pub Lang);

impl T {
    pub fn t(&self, key: &str) -> String {
        catalog(self.0)
            .get(key)
            .cloned()
            .unwrap_or_else(|| key.to_string())
    }

    pub fn lang(&self) -> &'static str {
        self.0.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_catalogs_have_the_same_keys() {
        let zh: Vec<_> = {
            let mut k: Vec<_> = catalog(Lang::ZhCn).keys().collect();
            k.sort();
            k
        };
        let en: Vec<_> = {
            let mut k: Vec<_> = catalog(Lang::En).keys().collect();
            k.sort();
            k
        };
        assert!(zh.len() > 40);
        assert_eq!(zh, en);
    }
}
