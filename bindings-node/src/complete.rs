//! Core's whole host loop (`keyproof::Completion`) for the JS layer: driven
//! synchronously through the host's callbacks by `Engine#verify`, and, where a
//! callback answered asynchronously, continued by the JS layer through the
//! [`Completion`] handle's `nextAction()` and answers.

use std::ops::ControlFlow;

use napi::bindgen_prelude::{Either, Function, Unknown};
use napi::Env;
use napi_derive::napi;

use keyproof::drive::answered;
use keyproof::wire::{decided, ActionView};
use keyproof::{Action, RateLimitState};

use crate::verification::{ask_record, ask_state, Decided};
use crate::{core_error, load_optional, napi_error, record_from, to_js, Result};

/// Runs `c` through the callbacks until the decision (its `Decided` string) or
/// until a callback stops (the handle, at the action it stopped on).
pub(crate) fn run(
    env: &Env,
    mut c: keyproof::Completion,
    lookup: &Function<'_, String, Unknown<'_>>,
    load_state: Option<&Function<'_, String, Unknown<'_>>>,
    act: &Function<'_, Unknown<'_>, f64>,
) -> Result<Either<Decided, Completion>> {
    let flow = c.drive(
        |hash| answered(ask_record(lookup, hash)),
        |key| answered(ask_state(load_state, key)),
        // `act(action)` answers 1 (done, or the compare-and-set won), 0 (lost) or -1 (stop here).
        |action| {
            answered(
                to_js(env, &ActionView::from(action))
                    .and_then(|view| act.call(view).map_err(napi_error))
                    .map(|answer| (answer >= 0.0).then_some(answer > 0.5)),
            )
        },
    );
    match flow {
        ControlFlow::Break(Some(e)) => Err(e),
        ControlFlow::Continue(()) if matches!(c.next_action(), Action::Done(_)) => {
            let outcome = c.into_outcome().ok_or_else(contended)?;
            Ok(Either::A(decided(outcome, false)))
        }
        _ => Ok(Either::B(Completion { inner: Some(c) })),
    }
}

fn contended() -> crate::Error {
    napi::Error::new(
        crate::Code::Napi(napi::Status::GenericFailure),
        "keyproof: the rate-limit store kept refusing the compare-and-set",
    )
}

fn finished() -> crate::Error {
    napi::Error::new(crate::Code::Napi(napi::Status::InvalidArg), "this verification is already finished")
}

/// A request part-way through core's host loop (see `keyproof::Completion`).
#[napi]
pub struct Completion {
    inner: Option<keyproof::Completion>,
}

impl Completion {
    fn get(&mut self) -> Result<&mut keyproof::Completion> {
        self.inner.as_mut().ok_or_else(finished)
    }
}

#[napi]
impl Completion {
    /// What the host must do next: `{kind, value?, write?, record?, at?}`.
    #[napi]
    pub fn next_action<'env>(&mut self, env: &'env Env) -> Result<Unknown<'env>> {
        let action = self.get()?.next_action();
        to_js(env, &ActionView::from(action))
    }

    /// Answers `lookup_record`: a `NativeRecord`, a record object, or `null`.
    #[napi]
    pub fn record(&mut self, record: Unknown<'_>) -> Result<()> {
        let record = record_from(record)?;
        self.get()?.shared_record(record);
        Ok(())
    }

    /// Answers `load_rate_state` with the stored state (`{tat_us}`) or `null`.
    #[napi]
    pub fn rate_state(&mut self, state: Unknown<'_>) -> Result<()> {
        let state: Option<RateLimitState> = load_optional(state)?;
        self.get()?.rate_state(state);
        Ok(())
    }

    /// Answers `compare_and_set`: whether the store took the write.
    #[napi]
    pub fn written(&mut self, won: bool) -> Result<()> {
        self.get()?.written(won);
        Ok(())
    }

    /// Answers `compare_and_set` with "lost to this stored state" (a compare-and-swap).
    #[napi]
    pub fn lost_to(&mut self, state: Unknown<'_>) -> Result<()> {
        let state: Option<RateLimitState> = load_optional(state)?;
        self.get()?.lost_to(state);
        Ok(())
    }

    /// Answers `save_record`.
    #[napi]
    pub fn saved(&mut self) -> Result<()> {
        self.get()?.saved();
        Ok(())
    }

    /// Answers `touch_last_used`.
    #[napi]
    pub fn touched(&mut self) -> Result<()> {
        self.get()?.touched();
        Ok(())
    }

    /// Answers `count_request`.
    #[napi]
    pub fn counted(&mut self) -> Result<()> {
        self.get()?.counted();
        Ok(())
    }

    /// Answers a rate-limit action with "the store failed" (`fail_closed` / `fail_open`;
    /// neither: the policy's `rate_store_failure`).
    #[napi]
    pub fn rate_state_unavailable(&mut self, on_error: Option<String>, retry_after_seconds: Option<u32>) -> Result<()> {
        let failure =
            keyproof::RateStoreFailure::chosen(on_error.as_deref(), retry_after_seconds).map_err(core_error)?;
        self.get()?.rate_state_unavailable(failure);
        Ok(())
    }

    /// At most `max_tries` compare-and-sets before `store_contended`.
    #[napi]
    pub fn set_max_tries(&mut self, max_tries: u32) -> Result<()> {
        self.get()?.set_max_tries(max_tries);
        Ok(())
    }

    /// The decision (`Decided`, with `full` the whole decision too). Ends the handle.
    #[napi(ts_return_type = "Decided")]
    pub fn decided(&mut self, full: Option<bool>) -> Result<Decided> {
        let outcome = self.inner.take().ok_or_else(finished)?.into_outcome().ok_or_else(contended)?;
        Ok(decided(outcome, full.unwrap_or(false)))
    }
}
