//! Structured logs: one JSON line per event, readable in `wrangler dev`'s output and with
//! `wrangler tail`. Never message text, never session secrets, never a private room's id (see
//! [`crate::room::log_tag`]).

use crate::config::LogLevel;
use crate::room::LogLine;
use serde::Serialize;

#[derive(Debug, Clone, Copy)]
pub struct Logger {
    pub level: LogLevel,
}

impl Logger {
    pub fn enabled(&self, level: LogLevel) -> bool {
        level >= self.level
    }

    /// Logs `fields` (a struct or `serde_json::json!`) under `event` for the room tagged `room`.
    pub fn log<T: Serialize>(&self, level: LogLevel, room: &str, event: &str, fields: T) {
        if !self.enabled(level) {
            return;
        }
        #[derive(Serialize)]
        struct Line<'a, T> {
            level: &'static str,
            room: &'a str,
            event: &'a str,
            #[serde(flatten)]
            fields: T,
        }
        let level_name = match level {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
        };
        let line = crate::protocol::to_json(&Line {
            level: level_name,
            room,
            event,
            fields,
        });
        match level {
            LogLevel::Warn => worker::console_error!("{line}"),
            _ => worker::console_log!("{line}"),
        }
    }

    /// Logs a line the room decided on.
    pub fn line(&self, room: &str, line: &LogLine) {
        self.log(line.level, room, line.event, &line.fields);
    }
}
