//! `AddressQuota`, a Durable Object per client address key (`crate::address::key`, digested):
//! it keeps that address's allowance of new rooms (`crate::creation`) in its storage, so every
//! Worker isolate sees the same allowance and it outlives any of them. It decides nothing.

use super::now_ms;
use wasm_bindgen::prelude::*;
use worker::worker_sys::DurableObjectState;
use worker::{web_sys, Env, Request, Response, State};

/// The key the allowance is stored under.
const KEY: &str = "rooms";

/// The Durable Object class (`class_name = "AddressQuota"` in `wrangler.toml`).
#[wasm_bindgen]
pub struct AddressQuota {
    state: State,
}

#[wasm_bindgen(wasm_bindgen_futures = worker::wasm_bindgen_futures)]
impl AddressQuota {
    #[wasm_bindgen(constructor)]
    pub fn new(state: DurableObjectState, _env: Env) -> AddressQuota {
        AddressQuota {
            state: State::from(state),
        }
    }

    pub async fn fetch(&self, req: web_sys::Request) -> Result<web_sys::Response, JsValue> {
        self.serve(req.into())
            .await
            .map(web_sys::Response::from)
            .map_err(JsValue::from)
    }
}

impl AddressQuota {
    /// `/take?per_hour=N`: takes one room from the allowance. `200 {}` if it was there,
    /// `429 {"retry_after_ms":…}` if not.
    async fn serve(&self, req: Request) -> worker::Result<Response> {
        let url = req.inner().url();
        let (path, query) = crate::api::split_url(&url);
        let per_hour = crate::api::query_param(query, "per_hour")
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(1);
        if path != "/take" {
            return Response::error("not found", 404);
        }
        let storage = self.state.storage();
        let stored: Option<String> = storage.get(KEY).await.ok().flatten();
        match crate::creation::take(stored.as_deref(), now_ms(), per_hour) {
            Ok(state) => {
                storage.put(KEY, state).await?;
                super::answers::json_ok("{}")
            }
            Err(ms) => Ok(Response::ok(format!("{{\"retry_after_ms\":{ms}}}"))?.with_status(429)),
        }
    }
}
