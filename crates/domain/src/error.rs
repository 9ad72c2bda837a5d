//! Domain errors: invalid input and illegal transitions. Messages are produced in the user's
//! language by [`DomainError::message`].

use crate::i18n::Lang;
use crate::lifecycle::Status;

/// Why a value was refused. Each reason renders a message that says what to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValidationError {
    Required,
    TooLong { max: usize },
    TooShort { min: usize },
    PhoneFormat,
    SerialFormat,
    LatitudeRange,
    LongitudeRange,
    DateInFuture,
    DateOrder { other: &'static str },
    UnknownValue { allowed: String },
    UnknownReference,
    MonthsRange,
    Duplicate,
    OutOfRange { min: i64, max: i64 },
    Invalid { zh: String, en: String },
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
            DomainError::Validation { reason, .. } => reason
                .message("", lang)
                .trim_start_matches(['：', ':', ' '])
                .to_string(),
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
    pub fn message(&self, field: &str, lang: Lang) -> String {
        use ValidationError::*;
        let zh = match self {
            Required => format!("{field}：必填"),
            TooLong { max } => format!("{field}：最多 {max} 个字符"),
            TooShort { min } => format!("{field}：至少 {min} 个字符"),
            PhoneFormat => format!(
                "{field}：电话号码格式不对，请填写 11 位手机号（如 13812345678）或带区号的座机（如 0571-87654321）"
            ),
            SerialFormat => format!("{field}：序列号应为 4–40 位字母、数字或 - / . 字符"),
            LatitudeRange => format!("{field}：纬度必须在 -90 到 90 之间"),
            LongitudeRange => format!("{field}：经度必须在 -180 到 180 之间"),
            DateInFuture => format!("{field}：日期不能晚于今天"),
            DateOrder { other } => format!("{field}：不能早于 {other}"),
            UnknownValue { allowed } => format!("{field}：无效的取值，可选：{allowed}"),
            UnknownReference => format!("{field}：引用的记录不存在或无权访问"),
            MonthsRange => format!("{field}：月数必须在 0 到 240 之间"),
            Duplicate => format!("{field}：已存在相同的记录"),
            OutOfRange { min, max } => format!("{field}：必须在 {min} 到 {max} 之间"),
            Invalid { zh, .. } => format!("{field}：{zh}"),
        };
        let en = match self {
            Required => format!("{field}: is required"),
            TooLong { max } => format!("{field}: at most {max} characters"),
            TooShort { min } => format!("{field}: at least {min} characters"),
            PhoneFormat => format!(
                "{field}: not a phone number; give an 11-digit mobile (e.g. 13812345678) or a landline with area code (e.g. 0571-87654321)"
            ),
            SerialFormat => format!(
                "{field}: a serial number has 4–40 letters, digits or the characters - / ."
            ),
            LatitudeRange => format!("{field}: latitude must be between -90 and 90"),
            LongitudeRange => format!("{field}: longitude must be between -180 and 180"),
            DateInFuture => format!("{field}: the date cannot be later than today"),
            DateOrder { other } => format!("{field}: cannot be earlier than {other}"),
            UnknownValue { allowed } => format!("{field}: unknown value; allowed: {allowed}"),
            UnknownReference => {
                format!("{field}: the referenced record does not exist or is not visible to you")
            }
            MonthsRange => format!("{field}: months must be between 0 and 240"),
            Duplicate => format!("{field}: a record with this value already exists"),
            OutOfRange { min, max } => format!("{field}: must be between {min} and {max}"),
            Invalid { en, .. } => format!("{field}: {en}"),
        };
        match lang {
            Lang::ZhCn => zh,
            Lang::En => en,
        }
    }
}
