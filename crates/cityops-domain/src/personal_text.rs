//! Personal data inside free text, and phone numbers in one form.
//!
//! Citizens write their name, phone, ID number or licence plate into descriptions, opinions
//! and comments. Those texts are shown to many people for many purposes (dispatch, the
//! public follow page, exports), so the workflow keeps them masked everywhere and the clear
//! text apart (see `TimelineEvent::clear_text`), sealed at rest and read only for a purpose.
//!
//! Detection is by pattern and errs on the side of the formats used in China: mobile and
//! landline numbers, resident ID numbers, licence plates, e-mail addresses, and names after
//! the words that introduce them (我叫, 联系人, 姓名...). A number that is only a number
//! (a case number, an amount) is left alone: phones and IDs must stand apart from other
//! digits.

use std::sync::OnceLock;

use regex::Regex;

use crate::InvalidInput;

/// What a masked span was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonalKind {
    Mobile,
    Landline,
    IdNumber,
    Plate,
    Email,
    Name,
}

struct Detector {
    kind: PersonalKind,
    pattern: Regex,
    /// The capture group that holds the personal data (0: the whole match).
    group: usize,
    /// The data must not touch other digits on either side.
    digit_bounded: bool,
}

fn detectors() -> &'static [Detector] {
    static DETECTORS: OnceLock<Vec<Detector>> = OnceLock::new();
    DETECTORS.get_or_init(|| {
        let d = |kind, pattern: &str, group, digit_bounded| Detector {
            kind,
            pattern: Regex::new(pattern).expect("the personal-data patterns are valid"),
            group,
            digit_bounded,
        };
        vec![
            d(
                PersonalKind::IdNumber,
                r"[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]",
                0,
                true,
            ),
            d(
                PersonalKind::Mobile,
                r"(?:(?:\+|00)?86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}",
                0,
                true,
            ),
            d(
                PersonalKind::Landline,
                r"(?:\(0\d{2,3}\)|0\d{2,3}[\s-]?)\d{7,8}",
                0,
                true,
            ),
            // A bare local number only after a word that says it is one.
            d(
                PersonalKind::Landline,
                r"(?i)(?:电话|手机|座机|热线|tel|phone)[:：\s]*(\d{3,4}[\s-]?\d{4})",
                1,
                true,
            ),
            d(
                PersonalKind::Email,
                r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
                0,
                false,
            ),
            d(
                PersonalKind::Plate,
                r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-Za-z][·•\s]?[A-HJ-NP-Za-hj-np-z0-9]{4,5}[A-HJ-NP-Za-hj-np-z0-9挂学警]",
                0,
                false,
            ),
            d(
                PersonalKind::Name,
                r"(?:我叫|我的名字是|名字是|姓名|联系人|报告人|举报人|投诉人|来电人|称呼)[是为:：\s]*(\p{Han}{2,3})",
                1,
                false,
            ),
            d(
                PersonalKind::Name,
                r"(?i:my name is|name:|contact:)\s*([A-Z][a-z]+(?:\s[A-Z][a-z]+)?)",
                1,
                false,
            ),
        ]
    })
}

/// A span of personal data found in a text (byte offsets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub kind: PersonalKind,
    pub start: usize,
    pub end: usize,
}

/// The personal data in `text`, in order, without overlaps.
pub fn find_personal_data(text: &str) -> Vec<Finding> {
    let mut found: Vec<Finding> = Vec::new();
    for detector in detectors() {
        let mut at = 0;
        while at <= text.len() {
            let Some(captures) = detector.pattern.captures_at(text, at) else {
                break;
            };
            let whole = captures.get(0).expect("group 0 always matches");
            let Some(span) = captures.get(detector.group) else {
                at = next_char(text, whole.start());
                continue;
            };
            let bounded = !detector.digit_bounded
                || (!text[..span.start()]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_ascii_digit())
                    && !text[span.end()..]
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_ascii_digit()));
            if bounded {
                found.push(Finding {
                    kind: detector.kind,
                    start: span.start(),
                    end: span.end(),
                });
                at = whole.end().max(next_char(text, whole.start()));
            } else {
                at = next_char(text, whole.start());
            }
        }
    }
    found.sort_by_key(|f| (f.start, std::cmp::Reverse(f.end)));
    let mut kept: Vec<Finding> = Vec::with_capacity(found.len());
    for finding in found {
        if kept.last().is_none_or(|last| finding.start >= last.end) {
            kept.push(finding);
        }
    }
    kept
}

fn next_char(text: &str, at: usize) -> usize {
    text[at..]
        .chars()
        .next()
        .map_or(text.len() + 1, |c| at + c.len_utf8())
}

/// `text` with its personal data masked, or `None` when it holds none.
pub fn mask_personal_text(text: &str) -> Option<String> {
    let found = find_personal_data(text);
    if found.is_empty() {
        return None;
    }
    let mut masked = String::with_capacity(text.len());
    let mut at = 0;
    for finding in found {
        masked.push_str(&text[at..finding.start]);
        masked.push_str(&mask_span(finding.kind, &text[finding.start..finding.end]));
        at = finding.end;
    }
    masked.push_str(&text[at..]);
    Some(masked)
}

fn mask_span(kind: PersonalKind, span: &str) -> String {
    let chars: Vec<char> = span.chars().collect();
    let keep = |head: usize, tail: usize| -> String {
        chars
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i < head || i + tail >= chars.len() || !c.is_alphanumeric() {
                    *c
                } else {
                    '*'
                }
            })
            .collect()
    };
    match kind {
        PersonalKind::Mobile | PersonalKind::Landline => {
            let digits: String = chars.iter().filter(|c| c.is_ascii_digit()).collect();
            crate::mask_phone(&digits)
        }
        PersonalKind::IdNumber => keep(4, 4),
        PersonalKind::Plate => keep(2, 1),
        PersonalKind::Email => match span.split_once('@') {
            Some((local, domain)) => {
                let first: String = local.chars().take(1).collect();
                format!("{first}***@{domain}")
            }
            None => "*".repeat(chars.len()),
        },
        PersonalKind::Name => crate::mask_name(span),
    }
}

/// `text` with every occurrence of a subject's phone (in any spacing or with the country
/// code) and name masked: erasure's second pass, for the copies pattern detection missed.
pub fn scrub_subject(text: &str, phone: Option<&str>, name: Option<&str>) -> String {
    let mut out = mask_personal_text(text).unwrap_or_else(|| text.to_owned());
    if let Some(name) = name.map(str::trim).filter(|n| n.chars().count() >= 2) {
        out = out.replace(name, &crate::mask_name(name));
    }
    let Some(national) = phone.and_then(|p| normalize_phone(p).ok()) else {
        return out;
    };
    let national = national.trim_start_matches('+').to_owned();
    // Walk digit runs (allowing the separators people type) and mask those that are the
    // subject's number.
    let runs = Regex::new(r"\+?\d[\d\s-]*\d").expect("valid pattern");
    let mut result = String::with_capacity(out.len());
    let mut at = 0;
    for run in runs.find_iter(&out) {
        let same = normalize_phone(run.as_str())
            .ok()
            .is_some_and(|p| p.trim_start_matches('+') == national)
            || national.len() >= 7
                && run
                    .as_str()
                    .chars()
                    .filter(char::is_ascii_digit)
                    .collect::<String>()
                    .contains(&national);
        if same {
            result.push_str(&out[at..run.start()]);
            result.push_str(&crate::mask_phone(&national));
            at = run.end();
        }
    }
    result.push_str(&out[at..]);
    result
}

/// A phone number in its one stored form: a Chinese number as its national digits
/// (`13900001111`, `02112345678`), whatever the spacing or country code it came with; a
/// foreign number as `+` and its digits. Lookups normalise the same way, so
/// `+86 139-0000-1111` and `13900001111` are one number.
pub fn normalize_phone(raw: &str) -> Result<String, InvalidInput> {
    let invalid = || {
        InvalidInput::new(
            "contact.phone",
            "a phone number has 5 to 20 digits (spaces, brackets, + and - allowed)",
        )
    };
    let trimmed = raw.trim();
    if !trimmed
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')' | '.'))
    {
        return Err(invalid());
    }
    let plus = trimmed.starts_with('+');
    if trimmed.chars().skip(1).any(|c| c == '+') {
        return Err(invalid());
    }
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    // The rule a caller can check (and the API document states): 5 to 20 digits as written.
    if !(5..=20).contains(&digits.len()) {
        return Err(invalid());
    }
    let written = digits.clone();
    let (international, digits) = if plus {
        (true, digits.as_str())
    } else if let Some(rest) = digits.strip_prefix("00") {
        (true, rest)
    } else {
        (false, digits.as_str())
    };
    let national = if international {
        match digits.strip_prefix("86") {
            Some(rest) => rest.to_owned(),
            // Too few digits once the international prefix is off (`00000`): kept as
            // written, below.
            None if digits.len() < 5 => written.clone(),
            None => return Ok(format!("+{digits}")),
        }
    } else if digits.len() == 13 && digits.starts_with("861") {
        // 86 written without the plus before a mobile number.
        digits[2..].to_owned()
    } else {
        digits.to_owned()
    };
    // A landline dialled from abroad drops its trunk 0; at home it has it.
    let national = if international && !national.starts_with('1') && !national.starts_with('0') {
        format!("0{national}")
    } else {
        national
    };
    // Too short once a country code is taken off (`00000`): not a number of the plan, so kept
    // as written, which is still one form for one input.
    if !(5..=20).contains(&national.len()) {
        return Ok(written);
    }
    Ok(national)
}

/// The form lookups compare: normalised when valid, else the digits as typed.
pub fn phone_key(raw: &str) -> String {
    normalize_phone(raw).unwrap_or_else(|_| raw.chars().filter(char::is_ascii_digit).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn phones_ids_plates_mails_and_names_are_masked() {
        let text = "我叫张三，电话13900001111，座机021-64481234，身份证310101199001011234，\
                    车牌沪A12345，邮箱zhangsan@example.com，案件号3101012026120500001不是电话";
        let masked = mask_personal_text(text).unwrap();
        for clear in [
            "张三",
            "13900001111",
            "64481234",
            "310101199001011234",
            "沪A12345",
            "zhangsan@",
        ] {
            assert!(!masked.contains(clear), "{clear} in {masked}");
        }
        assert!(masked.contains("139****1111"), "{masked}");
        assert!(masked.contains("张*"), "{masked}");
        assert!(masked.contains("沪A****5"), "{masked}");
        assert!(masked.contains("3101012026120500001"), "{masked}");
        assert!(masked.contains("z***@example.com"), "{masked}");
    }

    #[test]
    fn spaced_and_international_mobiles_are_found() {
        for text in [
            "call +86 139-0000-1111 please",
            "139 0000 1111",
            "008613900001111",
            "tel:(021)64481234",
        ] {
            let masked = mask_personal_text(text).expect(text);
            assert!(!masked.contains("0000-1111"), "{masked}");
            assert!(!masked.contains("00001111"), "{masked}");
            assert!(!masked.contains("64481234"), "{masked}");
        }
    }

    #[test]
    fn ordinary_text_and_numbers_are_left_alone() {
        for text in [
            "井盖缺失，位于南京东路100号门口",
            "路灯不亮已有3天，约20盏",
            "amount 12345678901234567890",
            "案件3101012026120500001",
            "2026-12-05 13:00",
        ] {
            assert_eq!(mask_personal_text(text), None, "{text}");
        }
    }

    #[test]
    fn phones_normalise_to_one_form() {
        for raw in [
            "13900001111",
            "+86 139-0000-1111",
            "0086 139 0000 1111",
            "8613900001111",
            " 139.0000.1111 ",
        ] {
            assert_eq!(normalize_phone(raw).unwrap(), "13900001111", "{raw}");
        }
        assert_eq!(normalize_phone("021-6448 1234").unwrap(), "02164481234");
        assert_eq!(normalize_phone("+86 21 6448 1234").unwrap(), "02164481234");
        assert_eq!(
            normalize_phone("+44 20 7946 0958").unwrap(),
            "+442079460958"
        );
        assert_eq!(normalize_phone("12345").unwrap(), "12345");
        for bad in [
            "",
            "1234",
            "phone",
            "139+0000",
            "+86",
            "1".repeat(21).as_str(),
        ] {
            assert!(normalize_phone(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn scrubbing_removes_a_subjects_number_in_any_spacing_and_their_name() {
        let text = "王小明说 139 0000 1111 或 +86-139-0000-1111 都能找到他，王小明住附近";
        let scrubbed = scrub_subject(text, Some("13900001111"), Some("王小明"));
        assert!(!scrubbed.contains("王小明"), "{scrubbed}");
        assert!(!scrubbed.contains("0000"), "{scrubbed}");
        assert!(scrubbed.contains("住附近"), "{scrubbed}");
    }

    proptest! {
        #[test]
        fn masking_never_panics_is_idempotent_and_leaves_no_mobile(
            prefix in "\\PC{0,20}", middle in "1[3-9][0-9]{9}", suffix in "[^0-9]{0,20}",
            lead in "[^0-9]?",
        ) {
            let text = format!("{prefix}{lead}{middle}{suffix}");
            let once = mask_personal_text(&text).unwrap_or_else(|| text.clone());
            let twice = mask_personal_text(&once).unwrap_or_else(|| once.clone());
            prop_assert_eq!(&once, &twice);
            if !prefix.ends_with(|c: char| c.is_ascii_digit()) || !lead.is_empty() {
                prop_assert!(!once.contains(&middle), "{} kept in {}", middle, once);
            }
        }

        #[test]
        fn any_text_masks_without_panic(text in "\\PC{0,200}") {
            let _ = mask_personal_text(&text);
            let _ = scrub_subject(&text, Some("13900001111"), Some("张三"));
            let _ = normalize_phone(&text);
        }

        #[test]
        fn normalised_phones_are_fixed_points_even_when_too_short_for_the_plan(raw in "(00|[+]|[+]86|0086)[0-9]{1,5}") {
            if let Ok(once) = normalize_phone(&raw) {
                prop_assert_eq!(normalize_phone(&once).unwrap(), once);
            }
        }

        #[test]
        fn normalised_phones_are_fixed_points(raw in "[+]?[0-9 ()-]{0,24}") {
            if let Ok(once) = normalize_phone(&raw) {
                prop_assert_eq!(normalize_phone(&once).unwrap(), once);
            }
        }
    }
}
