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

/// An incident's after-action report (总结报告) as a workbook: the summary with the response
/// level's history, the whole timeline, the units' tasks with their reports, the resources,
/// the linked alarms and cases, and the figures with a chart of the tasks by state.
pub(crate) fn after_action(
    incident: &cityops_domain::emergency::Incident,
    events: &[cityops_domain::emergency::IncidentEvent],
    links: &[crate::routes::emergencies::LinkView],
    map: Option<&[u8]>,
    now: chrono::DateTime<chrono::Utc>,
) -> ApiResult<Response> {
    let bytes = after_action_book(incident, events, links, map, now)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"incident-{}.xlsx\"", incident.id),
            ),
        ],
        bytes,
    )
        .into_response())
}

fn local(at: chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&cityops_domain::case::china_time())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

fn after_action_book(
    incident: &cityops_domain::emergency::Incident,
    events: &[cityops_domain::emergency::IncidentEvent],
    links: &[crate::routes::emergencies::LinkView],
    map: Option<&[u8]>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<u8>, XlsxError> {
    use cityops_domain::emergency::{IncidentCommand, TaskState};
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let rows = |sheet: &mut rust_xlsxwriter::Worksheet,
                header: &[&str],
                body: Vec<Vec<String>>|
     -> Result<(), XlsxError> {
        for (col, name) in header.iter().enumerate() {
            sheet.write_string_with_format(0, col as u16, *name, &bold)?;
        }
        for (i, row) in body.iter().enumerate() {
            for (col, cell) in row.iter().enumerate() {
                sheet.write_string(i as u32 + 1, col as u16, cell)?;
            }
        }
        sheet.set_freeze_panes(1, 0)?;
        Ok(())
    };

    let summary = book.add_worksheet();
    summary.set_name("summary")?;
    let response = |r: &cityops_domain::emergency::ResponseDecision| {
        format!("{}（{}）{}", r.level.zh(), r.reason, r.username)
    };
    let facts: Vec<Vec<String>> = vec![
        vec!["事件 incident".into(), incident.title.clone()],
        vec!["类别 kind".into(), incident.kind.zh().into()],
        vec![
            "分级 severity".into(),
            format!("{} {}", incident.severity.as_str(), incident.severity.zh()),
        ],
        vec![
            "区域 areas".into(),
            incident
                .areas
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        ],
        vec!["指挥中心 center".into(), incident.center.to_string()],
        vec![
            "预案 plan".into(),
            incident.plan.clone().unwrap_or_default(),
        ],
        vec!["启动 opened".into(), local(incident.opened_at)],
        vec![
            "终止 stood down".into(),
            incident.stood_down_at.map(local).unwrap_or_default(),
        ],
        vec![
            "响应级别 response".into(),
            incident.response.as_ref().map(response).unwrap_or_default(),
        ],
        vec!["生成 written".into(), local(now)],
    ];
    rows(summary, &["项目 item", "内容 value"], facts)?;
    summary.set_column_width(0, 18)?;
    summary.set_column_width(1, 60)?;

    let timeline = book.add_worksheet();
    timeline.set_name("timeline")?;
    let body = events
        .iter()
        .map(|e| {
            let mut details = serde_json::to_value(&e.command).unwrap_or_default();
            if let Some(map) = details.as_object_mut() {
                map.remove("command");
            }
            vec![
                e.seq.to_string(),
                local(e.at),
                e.username.clone(),
                e.role.as_str().to_owned(),
                e.unit.clone().unwrap_or_default(),
                e.command.name().to_owned(),
                details.to_string(),
            ]
        })
        .collect();
    rows(
        timeline,
        &[
            "#",
            "时间 at",
            "人员 by",
            "角色 role",
            "单位 unit",
            "动作 action",
            "内容 details",
        ],
        body,
    )?;
    timeline.set_column_width(6, 80)?;

    let tasks = book.add_worksheet();
    tasks.set_name("tasks")?;
    let body = incident
        .tasks
        .iter()
        .map(|t| {
            vec![
                t.id.to_string(),
                t.unit.clone(),
                t.title.clone(),
                local(t.deadline),
                t.state.as_str().to_owned(),
                if t.is_overdue(now) {
                    "超期 overdue".into()
                } else {
                    String::new()
                },
                t.updated_at.map(local).unwrap_or_default(),
                t.report.clone().unwrap_or_default(),
            ]
        })
        .collect();
    rows(
        tasks,
        &[
            "#",
            "单位 unit",
            "任务 task",
            "时限 deadline",
            "状态 state",
            "超期",
            "更新 updated",
            "报告 report",
        ],
        body,
    )?;

    let resources = book.add_worksheet();
    resources.set_name("resources")?;
    let body = incident
        .resources
        .iter()
        .map(|r| {
            vec![
                r.id.to_string(),
                r.kind.as_str().to_owned(),
                r.name.clone(),
                r.quantity.to_string(),
                r.unit.clone().unwrap_or_default(),
                r.state.as_str().to_owned(),
                r.location
                    .map(|l| format!("{:.5},{:.5}", l.lon, l.lat))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    rows(
        resources,
        &[
            "#",
            "类别 kind",
            "名称 name",
            "数量 quantity",
            "单位 unit",
            "状态 state",
            "位置 lon,lat",
        ],
        body,
    )?;

    let linked = book.add_worksheet();
    linked.set_name("links")?;
    let body = links
        .iter()
        .map(|l| {
            vec![
                l.kind.0.as_str().to_owned(),
                l.target.clone(),
                l.title.clone(),
                l.level.map(|w| w.0.as_str().to_owned()).unwrap_or_default(),
                l.state.clone(),
                local(l.at),
                if l.auto { "auto" } else { "manual" }.to_owned(),
            ]
        })
        .collect();
    rows(
        linked,
        &[
            "类别 kind",
            "编号 id",
            "对象 what",
            "级别 level",
            "状态 state",
            "时间 at",
            "方式 how",
        ],
        body,
    )?;
    linked.set_column_width(2, 40)?;

    let figures = book.add_worksheet();
    figures.set_name("figures")?;
    figures.write_string_with_format(0, 0, "指标 figure", &bold)?;
    figures.write_string_with_format(0, 1, "数值 value", &bold)?;
    let mut row = 1;
    for state in TaskState::ALL {
        let n = incident.tasks.iter().filter(|t| t.state == state).count();
        figures.write_string(row, 0, format!("tasks {}", state.as_str()))?;
        figures.write_number(row, 1, n as f64)?;
        row += 1;
    }
    let last_state_row = row - 1;
    let sitreps = events
        .iter()
        .filter(|e| matches!(e.command, IncidentCommand::Sitrep { .. }))
        .count();
    let level_changes = events
        .iter()
        .filter(|e| matches!(e.command, IncidentCommand::SetResponse { .. }))
        .count();
    for (name, n) in [
        ("sitreps 续报", sitreps),
        ("response decisions 响应调整", level_changes),
        (
            "linked alarms",
            links
                .iter()
                .filter(|l| l.kind.0 == cityops_domain::emergency::LinkKind::Alarm)
                .count(),
        ),
        (
            "linked cases",
            links
                .iter()
                .filter(|l| l.kind.0 == cityops_domain::emergency::LinkKind::Case)
                .count(),
        ),
        ("resources", incident.resources.len()),
    ] {
        figures.write_string(row, 0, name)?;
        figures.write_number(row, 1, n as f64)?;
        row += 1;
    }
    let hours =
        (incident.stood_down_at.unwrap_or(now) - incident.opened_at).num_minutes() as f64 / 60.0;
    figures.write_string(row, 0, "duration hours 历时")?;
    figures.write_number(row, 1, (hours * 10.0).round() / 10.0)?;
    figures.set_column_width(0, 30)?;
    let mut chart = Chart::new(ChartType::Column);
    chart
        .add_series()
        .set_categories(("figures", 1, 0, last_state_row, 0))
        .set_values(("figures", 1, 1, last_state_row, 1))
        .set_name("tasks by state");
    chart.title().set_name("联勤任务 Joint tasks");
    figures.insert_chart(1, 3, &chart)?;

    if let Some(png) = map {
        use crate::incident_map::Mark;
        use cityops_domain::telemetry::WarningLevel;
        let sheet = book.add_worksheet();
        sheet.set_name("map")?;
        sheet.write_string_with_format(0, 0, "态势图 map", &bold)?;
        let legend = [
            ("● 红色告警 red alarm", Mark::Alarm(WarningLevel::Red)),
            ("● 橙色告警 orange alarm", Mark::Alarm(WarningLevel::Orange)),
            ("● 黄色告警 yellow alarm", Mark::Alarm(WarningLevel::Yellow)),
            ("● 蓝色告警 blue alarm", Mark::Alarm(WarningLevel::Blue)),
            ("◆ 案件 case", Mark::Case),
            ("■ 资源 resource", Mark::Resource),
        ];
        for (i, (text, mark)) in legend.into_iter().enumerate() {
            let (r, g, b) = mark.rgb();
            let colour = (u32::from(r) << 16) | (u32::from(g) << 8) | u32::from(b);
            sheet.write_string_with_format(
                i as u32 + 1,
                0,
                text,
                &Format::new().set_font_color(colour),
            )?;
        }
        sheet.write_string(7, 0, "橙色区域 affected areas; 红色虚线 drawn zone")?;
        sheet.set_column_width(0, 34)?;
        let image = rust_xlsxwriter::Image::new_from_buffer(png)?
            .set_alt_text("incident map: affected areas, zone, alarms, cases, resources");
        sheet.insert_image(1, 2, &image)?;
    }
    book.save_to_buffer()
}
