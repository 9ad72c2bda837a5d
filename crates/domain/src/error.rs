//! Domain errors: invalid input and illegal transitions. Messages are produced in the user's
//! language by [`DomainError::message`].

use crate::fields;
use crate::i18n::Lang;
use crate::lifecycle::Status;

/// Why a value was refused. Each reason renders a message that says what to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValidationError {
    Required,
    TooLong {
        max: usize,
    },
    TooShort {
        min: usize,
    },
    PhoneFormat,
    SerialFormat,
    LatitudeRange,
    LongitudeRange,
    DateInFuture,
    DateOrder {
        other: &'static str,
    },
    UnknownValue {
        allowed: String,
    },
    UnknownReference,
    MonthsRange,
    Duplicate,
    OutOfRange {
        min: i64,
        max: i64,
    },
    /// Below the smallest allowed value (no upper bound).
    TooSmall {
        min: i64,
    },
    /// NUL or another control character (tabs and line breaks are allowed where text may have
    /// several lines).
    ControlCharacter,
    Invalid {
        zh: String,
        en: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("invalid {field}: {reason:?}")]
    Validation {
        field: String,
        reason: ValidationError,
    },
    #[error("illegal transition {from} -> {to}")]
    IllegalTransition { from: Status, to: Status },
}

impl DomainError {
    pub fn invalid(field: impl Into<String>, reason: ValidationError) -> Self {
        DomainError::Validation {
            field: field.into(),
            reason,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            DomainError::Validation { .. } => "validation",
            DomainError::IllegalTransition { .. } => "illegal_transition",
        }
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            DomainError::Validation { field, .. } => Some(field),
            DomainError::IllegalTransition { .. } => None,
        }
    }

    /// The message without the field's name, for showing next to the field itself.
    pub fn detail(&self, lang: Lang) -> String {
        match self {
            DomainError::Validation { field, reason } => reason.reason(field, lang),
            other => other.message(lang),
        }
    }

    /// A message a person can act on, in their language.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            DomainError::IllegalTransition { from, to } => match lang {
                Lang::ZhCn => format!(
                    "工单状态不能从“{}”变为“{}”",
                    from.label(lang),
                    to.label(lang)
                ),
                Lang::En => format!(
                    "A work order cannot go from '{}' to '{}'",
                    from.as_str(),
                    to.as_str()
                ),
            },
            DomainError::Validation { field, reason } => reason.message(field, lang),
        }
    }
}

impl ValidationError {
    /// What is wrong and what to do, without the field's name; `field` is the path on the
    /// wire (reasons that name the record use its label).
    pub fn reason(&self, field: &str, lang: Lang) -> String {
        use ValidationError::*;
        let noun = fields::noun(field, lang);
        let zh = || {
            match self {
            Required => "必填，请填写".to_string(),
            TooLong { max } => format!("最多 {max} 个字符，请缩短"),
            TooShort { min } => format!("至少 {min} 个字符"),
            PhoneFormat => "电话号码格式不对，请填写 11 位手机号（如 13812345678）或带区号的座机（如 0571-87654321）".to_string(),
            SerialFormat => "序列号应为 4–40 位字母、数字或 - / . 字符".to_string(),
            LatitudeRange => "纬度必须在 -90 到 90 之间".to_string(),
            LongitudeRange => "经度必须在 -180 到 180 之间".to_string(),
            DateInFuture => "日期不能晚于今天".to_string(),
            DateOrder { other } => format!("不能早于{}", fields::label(other, lang)),
            UnknownValue { allowed } => format!("无效的取值，可选：{allowed}"),
            UnknownReference => {
                format!("找不到这个{noun}（不存在或您无权访问），请重新选择")
            }
            MonthsRange => "月数必须在 0 到 240 之间".to_string(),
            Duplicate => "已存在相同的记录".to_string(),
            OutOfRange { min, max } => format!("必须在 {min} 到 {max} 之间"),
            TooSmall { min } => format!("不能小于 {min}"),
            ControlCharacter => "含有不可见的控制字符（如 NUL），请删除后重新输入".to_string(),
            Invalid { zh, .. } => zh.clone(),
        }
        };
        let en = || {
            match self {
            Required => "is required".to_string(),
            TooLong { max } => format!("at most {max} characters; shorten it"),
            TooShort { min } => format!("at least {min} characters"),
            PhoneFormat => "not a phone number; give an 11-digit mobile (e.g. 13812345678) or a landline with area code (e.g. 0571-87654321)".to_string(),
            SerialFormat => "a serial number has 4–40 letters, digits or the characters - / .".to_string(),
            LatitudeRange => "latitude must be between -90 and 90".to_string(),
            LongitudeRange => "longitude must be between -180 and 180".to_string(),
            DateInFuture => "the date cannot be later than today".to_string(),
            DateOrder { other } => {
                format!("cannot be earlier than the {}", fields::label(other, lang))
            }
            UnknownValue { allowed } => format!("unknown value; allowed: {allowed}"),
            UnknownReference => format!(
                "there is no such {noun}, or it is not visible to you; choose another"
            ),
            MonthsRange => "months must be between 0 and 240".to_string(),
            Duplicate => "a record with this value already exists".to_string(),
            OutOfRange { min, max } => format!("must be between {min} and {max}"),
            TooSmall { min } => format!("must be at least {min}"),
            ControlCharacter => {
                "contains an invisible control character (such as NUL); remove it and type it again"
                    .to_string()
            }
            Invalid { en, .. } => en.clone(),
        }
        };
        match lang {
            Lang::ZhCn => zh(),
            Lang::En => en(),
        }
    }

    /// The message with the field named as the user sees it: "地址 1 的纬度：纬度必须在 -90 到
    /// 90 之间" / "Address 1 latitude: latitude must be between -90 and 90".
    pub fn message(&self, field: &str, lang: Lang) -> String {
        let reason = self.reason(field, lang);
        match lang {
            Lang::ZhCn => format!("{}：{reason}", fields::label(field, lang)),
            Lang::En => format!("{}: {reason}", fields::label_start(field, lang)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_field_as_the_user_sees_it() {
        let e = DomainError::invalid("addresses[0].lat", ValidationError::LatitudeRange);
        assert_eq!(
            e.message(Lang::ZhCn),
            "地址 1 的纬度：纬度必须在 -90 到 90 之间"
        );
        assert_eq!(
            e.message(Lang::En),
            "Address 1 latitude: latitude must be between -90 and 90"
        );
        assert_eq!(e.detail(Lang::ZhCn), "纬度必须在 -90 到 90 之间");
        let r = DomainError::invalid("pins[0].technician_id", ValidationError::UnknownReference);
        assert_eq!(
            r.message(Lang::ZhCn),
            "指定 1 的技术员：找不到这个技术员（不存在或您无权访问），请重新选择"
        );
        let d = DomainError::invalid(
            "install_date",
            ValidationError::DateOrder {
                other: "purchase_date",
            },
        );
        assert_eq!(d.message(Lang::ZhCn), "安装日期：不能早于购买日期");
    }
}
