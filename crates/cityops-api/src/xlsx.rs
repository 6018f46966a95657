//! The evaluation as an Excel workbook (rust_xlsxwriter: pure Rust, writes charts that Excel
//! and WPS open): a ranking sheet with every indicator and count, numbers as numbers, and a
//! chart sheet with the composites of the rated subjects.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use rust_xlsxwriter::{Chart, ChartType, Format, Workbook, XlsxError};

use crate::error::{ApiError, ApiResult};
use crate::routes::evaluation::{table, EvaluationView};

/// The sheet of the ranking, named so the chart's ranges can point at it.
const RANKING: &str = "ranking";

pub(crate) fn evaluation(answer: &EvaluationView) -> ApiResult<Response> {
    let bytes = workbook(answer).map_err(|e| ApiError::internal(e.to_string()))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"evaluation-{}-{}-{}.xlsx\"",
                    answer.level.0.as_str(),
                    answer.from,
                    answer.to
                ),
            ),
        ],
        bytes,
    )
        .into_response())
}

fn workbook(answer: &EvaluationView) -> Result<Vec<u8>, XlsxError> {
    let (header, rows) = table(answer);
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = book.add_worksheet();
    sheet.set_name(RANKING)?;
    for (col, name) in header.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, name, &bold)?;
    }
    for (i, row) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        for (col, cell) in row.iter().enumerate() {
            // Ranks, composites, indicators and counts are numbers; keys stay text so that a
            // grid's 14 digits keep every one of them.
            let numeric = col == 0 || col >= 5;
            match cell.parse::<f64>() {
                Ok(n) if numeric => sheet.write_number(r, col as u16, n)?,
                _ => sheet.write_string(r, col as u16, cell)?,
            };
        }
    }
    sheet.set_freeze_panes(1, 3)?;
    let rated = answer.rows.iter().filter(|r| r.composite.is_some()).count() as u32;
    let mut chart = Chart::new(ChartType::Bar);
    chart.title().set_name(&format!(
        "{} {}..{}",
        answer.level.0.as_str(),
        answer.from,
        answer.to
    ));
    if rated > 0 {
        // Rated rows come first, best first: the names in column C, composites in F.
        chart
            .add_series()
            .set_name("composite")
            .set_categories((RANKING, 1, 2, rated, 2))
            .set_values((RANKING, 1, 5, rated, 5));
    }
    let charts = book.add_chartsheet();
    charts.set_name("chart")?;
    charts.insert_chart(0, 0, &chart)?;
    book.save_to_buffer()
}
