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
