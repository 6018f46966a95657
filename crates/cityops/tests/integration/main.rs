//! Every integration test of the `cityops` crate, in ONE test binary: each binary links the
//! whole server, so one binary instead of twenty is the largest saving of a test build.
//! A module per subject; the tests are named `module::test`.

mod access;
mod accounts;
mod admin_tools;
mod api_keys;
mod audit;
mod bad_input;
mod boundaries;
mod calendar;
mod callback;
mod census;
mod class_suggestions;
mod consistency;
mod demo;
mod duplicate_candidates;
mod durability;
mod evaluation;
mod exports;
mod extra_fields;
mod free_text;
mod grids;
mod hardening;
mod hotline;
mod intake_console;
mod key_custody;
mod knowledge;
mod leaks;
mod merging;
mod ogc;
mod outbox;
mod overdue_watch;
mod patrols;
mod permissions;
mod personal_data;
mod photos;
mod relocation;
mod screen_and_citizen;
mod second_factor;
mod sessions;
mod stage_clocks;
mod tidy;
mod units;
mod users;
mod vital_signs;
mod workflow_http;
