//! Reading the CSV files officials keep in Excel: UTF-8 with or without a byte-order mark,
//! cells trimmed, the header checked before any row is.

use crate::InvalidInput;

/// A reader over `text` with the BOM (Excel's "CSV UTF-8") skipped and cells trimmed.
pub fn reader(text: &str) -> csv::Reader<&[u8]> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes())
}

/// A reader whose header must be exactly `columns`; otherwise an error on `line 1`.
pub fn with_header<'t>(
    text: &'t str,
    columns: &[&str],
) -> Result<csv::Reader<&'t [u8]>, InvalidInput> {
    let mut reader = reader(text);
    let headers = reader
        .headers()
        .map_err(|e| InvalidInput::new("line 1", e.to_string()))?;
    if headers.iter().ne(columns.iter().copied()) {
        return Err(InvalidInput::new(
            "line 1",
            format!("the header must be {}", columns.join(",")),
        ));
    }
    Ok(reader)
}

/// The characters that make a spreadsheet read a cell as a formula (`=`, `+`, `-`, `@`) or
/// that some spreadsheets strip before doing so (tab, carriage return).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell as written to a CSV file that officials open in Excel or WPS: text a spreadsheet
/// would run as a formula (a citizen's description `=HYPERLINK(...)`, say) gets a leading
/// `'`, which spreadsheets show as text and [`unescape`] takes off again on import. Plain
/// numbers (`-3.5`) stay numbers.
pub fn cell(text: &str) -> std::borrow::Cow<'_, str> {
    let risky = text.starts_with(FORMULA_STARTS) && text.trim().parse::<f64>().is_err();
    if risky {
        std::borrow::Cow::Owned(format!("'{text}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// Writes one data row with every cell passed through [`cell`].
pub fn write_row<W: std::io::Write, S: AsRef<str>>(
    out: &mut csv::Writer<W>,
    cells: impl IntoIterator<Item = S>,
) -> csv::Result<()> {
    out.write_record(cells.into_iter().map(|c| cell(c.as_ref()).into_owned()))
}

/// A record read back with the escape of [`cell`] taken off: a file CityOps exported
/// imports unchanged.
pub fn unescape(record: csv::StringRecord) -> csv::StringRecord {
    let escaped = |field: &str| {
        field
            .strip_prefix('\'')
            .is_some_and(|rest| rest.starts_with(FORMULA_STARTS))
    };
    if !record.iter().any(escaped) {
        return record;
    }
    let mut plain: csv::StringRecord = record
        .iter()
        .map(|field| if escaped(field) { &field[1..] } else { field })
        .collect();
    plain.set_position(record.position().cloned());
    plain
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formulas_are_escaped_and_numbers_are_not() {
        for (text, written) in [
            (
                "=HYPERLINK(\"http://x\",\"点此\")",
                "'=HYPERLINK(\"http://x\",\"点此\")",
            ),
            ("+86 139 0000 1111", "'+86 139 0000 1111"),
            ("-1+1", "'-1+1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("-3.5", "-3.5"),
            ("+2", "+2"),
            ("南京东路 = 步行街", "南京东路 = 步行街"),
            ("", ""),
        ] {
            assert_eq!(cell(text), written, "{text}");
        }
    }

    /// Writes one row of `cells` and reads it back as an import would.
    fn round_trip(cells: &[String]) -> Vec<String> {
        let mut out = csv::Writer::from_writer(Vec::new());
        out.write_record(["a", "b", "c"][..cells.len()].iter())
            .unwrap();
        write_row(&mut out, cells).unwrap();
        let text = String::from_utf8(out.into_inner().unwrap()).unwrap();
        let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        let record = reader.records().next().unwrap().unwrap();
        unescape(record).iter().map(str::to_owned).collect()
    }

    proptest! {
        /// No written cell starts a formula, and every cell reads back as it was.
        #[test]
        fn escaped_cells_round_trip(
            cells in proptest::collection::vec("[=+@\\-'\t]?[=+@\\-'a-z0-9.\u{4e00}-\u{4e10} ]{0,8}", 1..=3)
        ) {
            for c in &cells {
                let written = cell(c);
                prop_assert!(
                    !written.starts_with(['=', '+', '@', '\t', '\r'])
                        || written.trim().parse::<f64>().is_ok()
                );
            }
            let cells: Vec<String> = cells
                .into_iter()
                // An apostrophe before a formula character is how the escape reads; a cell
                // that begins so by itself is the one form that does not round-trip.
                .filter(|c| !(c.starts_with('\'') && c[1..].starts_with(FORMULA_STARTS)))
                .collect();
            prop_assume!(!cells.is_empty());
            prop_assert_eq!(round_trip(&cells), cells);
        }
    }
}
