//! The verification step for hosts that drive it themselves: `Verification`
//! (core's step), its `StepInfo`, the `Decided` string, and the answers of the
//! host's `lookup` / `loadState` callbacks as core takes them.

use napi::bindgen_prelude::{Function, Unknown};
use napi::{Env, ValueType};
use napi_derive::napi;

use keyproof::wire::{decided, RateWriteView, StepView};
use keyproof::{KeyRecord, RateLimitState};

use crate::{core_error, load_optional, napi_error, record_from, to_js, Result};

/// What the host must do next, as a plain object.
#[napi(object)]
pub struct StepInfo {
    /// `lookup_record`, `load_rate_state` or `done`.
    pub kind: String,
    /// The storage hash (`lookup_record`) or rate-limit key (`load_rate_state`).
    pub value: Option<String>,
}

impl From<StepView<'_>> for StepInfo {
    fn from(step: StepView<'_>) -> Self {
        Self { kind: step.kind.to_string(), value: step.value.map(str::to_string) }
    }
}

/// One request being verified (see `keyproof::Verification`).
#[napi]
pub struct Verification {
    pub(crate) inner: Option<keyproof::Verification>,
}

impl Verification {
    fn get(&self) -> Result<&keyproof::Verification> {
        self.inner.as_ref().ok_or_else(finished)
    }

    fn get_mut(&mut self) -> Result<&mut keyproof::Verification> {
        self.inner.as_mut().ok_or_else(finished)
    }
}

fn finished() -> crate::Error {
    napi::Error::new(crate::Code::Napi(napi::Status::InvalidArg), "this verification is already finished")
}

#[napi]
impl Verification {
    /// What the host must do next.
    #[napi]
    pub fn next_step(&self) -> Result<StepInfo> {
        Ok(StepView::from(self.get()?.next_step()).into())
    }

    /// Answers a lookup step: a [`NativeRecord`], a record object, or `null`.
    #[napi]
    pub fn record(&mut self, record: Unknown<'_>) -> Result<()> {
        let record = record_from(record)?;
        self.get_mut()?.shared_record(record);
        Ok(())
    }

    /// Answers the rate-limit step with the stored state (`{tat_us}`) or `null`;
    /// may be called again after a lost compare-and-set (the step recomputes).
    #[napi]
    pub fn rate_state(&mut self, state: Unknown<'_>) -> Result<()> {
        let state: Option<RateLimitState> = load_optional(state)?;
        self.get_mut()?.rate_state(state);
        Ok(())
    }

    /// Answers the rate-limit step with "the store failed" (also after a lost
    /// compare-and-set whose retry failed): `onError` `"fail_closed"` (503 with
    /// `Retry-After: retryAfterSeconds`), `"fail_open"` or neither (the policy's
    /// `rate_store_failure`); core renders the answer.
    #[napi]
    pub fn rate_state_unavailable(&mut self, on_error: Option<String>, retry_after_seconds: Option<u32>) -> Result<()> {
        let failure =
            keyproof::RateStoreFailure::chosen(on_error.as_deref(), retry_after_seconds).map_err(core_error)?;
        self.get_mut()?.rate_state_unavailable(failure);
        Ok(())
    }

    /// The host's compare-and-set of `rateWrite()` won: the next write follows
    /// (a usage-limited key's counter after its rate-limit bucket).
    #[napi]
    pub fn rate_written(&mut self) -> Result<()> {
        self.get_mut()?.rate_written();
        Ok(())
    }

    /// The compare-and-set write the decision so far needs, or `null`.
    #[napi]
    pub fn rate_write<'env>(&self, env: &'env Env) -> Result<Unknown<'env>> {
        let write = self.get()?.rate_write();
        to_js(env, &write.as_ref().map(RateWriteView::from))
    }

    /// Finishes: the decision and what to write.
    /// With `full`, the result also carries the whole decision as JSON text.
    #[napi(ts_return_type = "Decided")]
    pub fn finish(&mut self, full: Option<bool>) -> Result<Decided> {
        let v = self.inner.take().ok_or_else(finished)?;
        Ok(decided(v.finish(), full.unwrap_or(false)))
    }
}

/// A finished verification as one string: `"<allowed 0|1> <status> <code> <flags> <json>"`
/// (`keyproof::wire::decided`, see `js/NATIVE.md`).
pub type Decided = String;

/// What `lookup(hash)` answered: a record or `null` (`Some`), or `false` to stop (`None`).
pub(crate) fn ask_record(
    lookup: &Function<'_, String, Unknown<'_>>,
    hash: &str,
) -> Result<Option<Option<std::sync::Arc<KeyRecord>>>> {
    let found = lookup.call(hash.to_string()).map_err(napi_error)?;
    if found.get_type().map_err(napi_error)? == ValueType::Boolean {
        return Ok(None);
    }
    record_from(found).map(Some)
}

/// What `load_state(key)` answered: a state or `null` (`Some`), or `false` or
/// no callback to stop (`None`).
pub(crate) fn ask_state(
    load_state: Option<&Function<'_, String, Unknown<'_>>>,
    key: &str,
) -> Result<Option<Option<RateLimitState>>> {
    let Some(load_state) = load_state else { return Ok(None) };
    let state = load_state.call(key.to_string()).map_err(napi_error)?;
    match state.get_type().map_err(napi_error)? {
        ValueType::Boolean => Ok(None),
        _ => load_optional(state).map(Some),
    }
}
