//! The verification step for hosts that drive it themselves: `Verification`
//! (core's step: `nextStep`, `record`, `rateState`, `rateWrite`, `finish`).

use wasm_bindgen::prelude::*;

use keyproof::wire::{decided, RateWriteView, StepView};
use keyproof::RateLimitState;

use crate::{core_error, invalid_arg, load_optional, optional_text, record_from, to_js, Result};

/// One request being verified (see `keyproof::Verification`).
#[wasm_bindgen]
pub struct Verification {
    pub(crate) inner: Option<keyproof::Verification>,
}

fn finished() -> JsValue {
    invalid_arg("this verification is already finished")
}

impl Verification {
    fn get(&self) -> Result<&keyproof::Verification> {
        self.inner.as_ref().ok_or_else(finished)
    }

    fn get_mut(&mut self) -> Result<&mut keyproof::Verification> {
        self.inner.as_mut().ok_or_else(finished)
    }
}

#[wasm_bindgen]
impl Verification {
    /// What the host must do next: `{kind, value?}` with `kind` one of
    /// `lookup_record`, `load_rate_state`, `done`.
    #[wasm_bindgen(js_name = nextStep)]
    pub fn next_step(&self) -> Result<JsValue> {
        to_js(&StepView::from(self.get()?.next_step()))
    }

    /// Answers a lookup step: a `NativeRecord`, a record object, or `null`.
    pub fn record(&mut self, record: JsValue) -> Result<()> {
        let record = record_from(&record)?;
        self.get_mut()?.shared_record(record);
        Ok(())
    }

    /// Answers the rate-limit step with the stored state (`{tat_us}`) or `null`;
    /// may be called again after a lost compare-and-set (the step recomputes).
    #[wasm_bindgen(js_name = rateState)]
    pub fn rate_state(&mut self, state: JsValue) -> Result<()> {
        let state: Option<RateLimitState> = load_optional(&state)?;
        self.get_mut()?.rate_state(state);
        Ok(())
    }

    /// Answers the rate-limit step with "the store failed" (also after a lost
    /// compare-and-set whose retry failed): `onError` `"fail_closed"` (503 with
    /// `Retry-After: retryAfterSeconds`) or `"fail_open"`; core renders the answer.
    #[wasm_bindgen(js_name = rateStateUnavailable)]
    pub fn rate_state_unavailable(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "string | undefined")] on_error: JsValue,
        retry_after_seconds: Option<u32>,
    ) -> Result<()> {
        let on_error = optional_text(&on_error, "onError")?;
        let failure =
            keyproof::RateStoreFailure::chosen(on_error.as_deref(), retry_after_seconds).map_err(core_error)?;
        self.get_mut()?.rate_state_unavailable(failure);
        Ok(())
    }

    /// The host's compare-and-set of `rateWrite()` won: the next write follows
    /// (a usage-limited key's counter after its rate-limit bucket).
    #[wasm_bindgen(js_name = rateWritten)]
    pub fn rate_written(&mut self) -> Result<()> {
        self.get_mut()?.rate_written();
        Ok(())
    }

    /// The compare-and-set write the decision so far needs, or `null`.
    #[wasm_bindgen(js_name = rateWrite)]
    pub fn rate_write(&self) -> Result<JsValue> {
        to_js(&self.get()?.rate_write().as_ref().map(RateWriteView::from))
    }

    /// Finishes: the decision and what to write (`keyproof::wire::decided`).
    /// With `full`, the result also carries the whole decision as JSON text.
    pub fn finish(&mut self, full: Option<bool>) -> Result<String> {
        let v = self.inner.take().ok_or_else(finished)?;
        Ok(decided(v.finish(), full.unwrap_or(false)))
    }
}
