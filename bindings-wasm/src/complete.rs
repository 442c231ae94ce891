//! Core's whole host loop (`keyproof::Completion`) for the JS layer: driven
//! synchronously through the host's callbacks by `Engine#verify` (with `act`),
//! and, where a callback answered asynchronously, continued by the JS layer
//! through the [`Completion`] handle's `nextAction()` and answers.

use std::ops::ControlFlow;

use js_sys::Function;
use wasm_bindgen::prelude::*;

use keyproof::drive::answered;
use keyproof::wire::{decided, ActionView};
use keyproof::{Action, RateLimitState};

use crate::drive::{ask_record, ask_state};
use crate::{core_error, invalid_arg, js_error, load_optional, optional_text, record_from, Result};

/// Runs `c` through the callbacks until the decision (its `Decided` string) or
/// until a callback stops (the handle, at the action it stopped on).
pub(crate) fn run(
    mut c: keyproof::Completion,
    lookup: &Function,
    load_state: Option<&Function>,
    act: &Function,
) -> Result<JsValue> {
    let flow = c.drive(
        |hash| answered(ask_record(lookup, hash)),
        |key| answered(ask_state(load_state, key)),
        // `act(action)` answers 1 (done, or the compare-and-set won), 0 (lost) or -1 (stop here).
        |action| {
            let answer = action_js(action).and_then(|view| act.call1(&JsValue::NULL, &view));
            answered(answer.map(|a| a.as_f64().filter(|a| *a >= 0.0).map(|a| a > 0.5)))
        },
    );
    match flow {
        ControlFlow::Break(Some(e)) => Err(e),
        ControlFlow::Continue(()) if matches!(c.next_action(), Action::Done(_)) => {
            let outcome = c.into_outcome().ok_or_else(contended)?;
            Ok(JsValue::from_str(&decided(outcome, false)))
        }
        _ => Ok(Completion { inner: Some(c) }.into()),
    }
}

/// An action as a plain JS object. Through JSON text, so a state beyond 2^53 µs
/// reads as the nearest JS number, as in the `Decided` string and the Node binding.
fn action_js(action: Action<'_>) -> Result<JsValue> {
    let text =
        serde_json::to_string(&ActionView::from(action)).map_err(|e| js_error("GenericFailure", &e.to_string()))?;
    js_sys::JSON::parse(&text)
}

fn contended() -> JsValue {
    js_error("GenericFailure", "keyproof: the rate-limit store kept refusing the compare-and-set")
}

fn finished() -> JsValue {
    invalid_arg("this verification is already finished")
}

/// A request part-way through core's host loop (see `keyproof::Completion`).
#[wasm_bindgen]
pub struct Completion {
    inner: Option<keyproof::Completion>,
}

impl Completion {
    fn get(&mut self) -> Result<&mut keyproof::Completion> {
        self.inner.as_mut().ok_or_else(finished)
    }
}

#[wasm_bindgen]
impl Completion {
    /// What the host must do next: `{kind, value?, write?, record?, at?}`.
    #[wasm_bindgen(js_name = nextAction)]
    pub fn next_action(&mut self) -> Result<JsValue> {
        action_js(self.get()?.next_action())
    }

    /// Answers `lookup_record`: a `NativeRecord`, a record object, or `null`.
    pub fn record(&mut self, record: JsValue) -> Result<()> {
        let record = record_from(&record)?;
        self.get()?.shared_record(record);
        Ok(())
    }

    /// Answers `load_rate_state` with the stored state (`{tat_us}`) or `null`.
    #[wasm_bindgen(js_name = rateState)]
    pub fn rate_state(&mut self, state: JsValue) -> Result<()> {
        let state: Option<RateLimitState> = load_optional(&state)?;
        self.get()?.rate_state(state);
        Ok(())
    }

    /// Answers `compare_and_set`: whether the store took the write.
    pub fn written(&mut self, won: bool) -> Result<()> {
        self.get()?.written(won);
        Ok(())
    }

    /// Answers `compare_and_set` with "lost to this stored state" (a compare-and-swap).
    #[wasm_bindgen(js_name = lostTo)]
    pub fn lost_to(&mut self, state: JsValue) -> Result<()> {
        let state: Option<RateLimitState> = load_optional(&state)?;
        self.get()?.lost_to(state);
        Ok(())
    }

    /// Answers `save_record`.
    pub fn saved(&mut self) -> Result<()> {
        self.get()?.saved();
        Ok(())
    }

    /// Answers `touch_last_used`.
    pub fn touched(&mut self) -> Result<()> {
        self.get()?.touched();
        Ok(())
    }

    /// Answers `count_request`.
    pub fn counted(&mut self) -> Result<()> {
        self.get()?.counted();
        Ok(())
    }

    /// Answers a rate-limit action with "the store failed" (`fail_closed` / `fail_open`;
    /// neither: the policy's `rate_store_failure`).
    #[wasm_bindgen(js_name = rateStateUnavailable)]
    pub fn rate_state_unavailable(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "string | undefined")] on_error: JsValue,
        retry_after_seconds: Option<u32>,
    ) -> Result<()> {
        let on_error = optional_text(&on_error, "onError")?;
        let failure =
            keyproof::RateStoreFailure::chosen(on_error.as_deref(), retry_after_seconds).map_err(core_error)?;
        self.get()?.rate_state_unavailable(failure);
        Ok(())
    }

    /// At most `maxTries` compare-and-sets before `store_contended`.
    #[wasm_bindgen(js_name = setMaxTries)]
    pub fn set_max_tries(&mut self, max_tries: u32) -> Result<()> {
        self.get()?.set_max_tries(max_tries);
        Ok(())
    }

    /// The decision (`Decided`, with `full` the whole decision too). Ends the handle.
    pub fn decided(&mut self, full: Option<bool>) -> Result<String> {
        let outcome = self.inner.take().ok_or_else(finished)?.into_outcome().ok_or_else(contended)?;
        Ok(decided(outcome, full.unwrap_or(false)))
    }
}
