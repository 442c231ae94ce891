//! The verification step for Python hosts: `Verification` (core's step, plus
//! `complete()`: core's whole host loop, `keyproof::Completion`, with the host's
//! I/O callables, in one native call), `RateWrite`, `Outcome`. Python's
//! `Verifier` is `complete()`: sync hosts return from one call; async hosts
//! await what it hands back, pass the result to `answer()` and call again.

use std::ops::ControlFlow;

use chrono::{DateTime, Utc};
use keyproof::{Action, Completion, Step};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyString};

use crate::engine::{Decision, RateLimitDecision};
use crate::errors::to_py_err;
use crate::record::{record_arg, KeyRecord};
use crate::values::{state_arg, RateLimitState};

/// One request being verified, without I/O: ask `next_step()` what the host must
/// do, answer with `record()` / `rate_state()`, then `finish()`; or let
/// `complete()` run the whole loop with the host's callables.
#[pyclass(module = "keyproof")]
pub struct Verification {
    inner: Option<Completion>,
    /// `complete()` returned an awaitable for the current action; `answer()` takes its result.
    waiting: bool,
}

impl Verification {
    pub(crate) fn new(v: keyproof::Verification) -> Self {
        Self { inner: Some(Completion::new(v)), waiting: false }
    }

    fn completion(&mut self) -> PyResult<&mut Completion> {
        self.inner.as_mut().ok_or_else(finished_error)
    }

    /// The step, until the decision is made.
    fn live(&mut self) -> PyResult<&mut keyproof::Verification> {
        self.completion()?.verification().ok_or_else(finished_error)
    }
}

fn finished_error() -> PyErr {
    PyRuntimeError::new_err("this verification is finished")
}

/// A core step as Python sees it: its name and the hash or key it is about.
pub(crate) fn step_of(step: Step<'_>) -> (&'static str, Option<String>) {
    match step {
        Step::LookupRecord(hash) => ("lookup", Some(hash.to_string())),
        Step::LoadRateState(key) => ("rate_state", Some(key.to_string())),
        Step::Done => ("done", None),
    }
}

/// Whether a callable handed back an awaitable. The answers hosts give most
/// (None, a record, a state, a bool, a dict) are told apart first: asking a type
/// without `__await__` for it raises and formats an `AttributeError` each time.
fn is_awaitable(value: &Bound<'_, PyAny>) -> bool {
    let plain = value.is_none()
        || value.is_instance_of::<KeyRecord>()
        || value.is_instance_of::<RateLimitState>()
        || value.is_instance_of::<PyBool>()
        || value.is_exact_instance_of::<PyDict>()
        || value.is_exact_instance_of::<PyString>();
    !plain && value.get_type().hasattr(pyo3::intern!(value.py(), "__await__")).unwrap_or(false)
}

#[pymethods]
impl Verification {
    /// `("lookup", hash)`: look a record up under this storage hash; `("rate_state",
    /// key)`: load the rate-limit state stored under this key; `("done", None)`.
    fn next_step(&mut self) -> PyResult<(&'static str, Option<String>)> {
        Ok(step_of(self.live()?.next_step()))
    }

    /// Answers the lookup step: the record stored under the hash (`KeyRecord`, dict,
    /// JSON text) or None (the next lookup hash is asked for, if any).
    fn record(&mut self, record: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let record = record_arg(record)?;
        self.live()?.shared_record(record);
        Ok(())
    }

    /// Answers the rate-state step with the stored state (or None). Again after a
    /// lost compare-and-set, with the fresh state: the rate limit is recomputed.
    fn rate_state(&mut self, state: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let state = state_arg(state)?;
        self.live()?.rate_state(state);
        Ok(())
    }

    /// Answers the rate-state step (or the compare-and-set) with "the store failed":
    /// core answers per `on_error` — `"fail_closed"`: 503 `rate_limit_unavailable`
    /// with `Retry-After: retry_after_seconds` (default 1); `"fail_open"`: allowed, no
    /// rate-limit headers, warning `rate_limit_unavailable`; None: the policy's
    /// `rate_store_failure` (default: fail closed).
    #[pyo3(signature = (on_error=None, retry_after_seconds=None))]
    fn rate_state_unavailable(&mut self, on_error: Option<&str>, retry_after_seconds: Option<u32>) -> PyResult<()> {
        let failure = keyproof::RateStoreFailure::chosen(on_error, retry_after_seconds).map_err(to_py_err)?;
        self.completion()?.rate_state_unavailable(failure);
        self.waiting = false;
        Ok(())
    }

    /// Answers lookup and rate-state steps by calling `lookup(hash)` and
    /// `load_state(key)`, in Rust, until the step is done (returns None) or a call
    /// returns an awaitable: that is returned and its step stays open (await it,
    /// then answer with `record()` / `rate_state()`).
    fn drive<'py>(
        &mut self,
        lookup: &Bound<'py, PyAny>,
        load_state: &Bound<'py, PyAny>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let answered = self
            .live()?
            .drive(|hash| answer(lookup.call1((hash,)), record_arg), |key| answer(load_state.call1((key,)), state_arg));
        match answered {
            ControlFlow::Continue(()) => Ok(None),
            ControlFlow::Break(stopped) => stopped.map(Some),
        }
    }

    /// The whole host loop in one call (core's `Completion`): lookups and state
    /// loads, the compare-and-set of the rate write (re-reading the state after a
    /// lost race), then `save(upgraded_record)`, `touch(key_id, at)` and
    /// `count(key_id)` (one more request the key was let through for) when core
    /// asks for them (each may be None). Returns the `Decision`, or the first
    /// awaitable a callable returns: await it, pass its result to `answer()`, call again.
    #[pyo3(signature = (lookup, get, compare_and_set, save=None, touch=None, count=None))]
    #[allow(clippy::too_many_arguments)] // the host's callables, as Python keyword arguments
    fn complete<'py>(
        &mut self,
        py: Python<'py>,
        lookup: &Bound<'py, PyAny>,
        get: &Bound<'py, PyAny>,
        compare_and_set: &Bound<'py, PyAny>,
        save: Option<&Bound<'py, PyAny>>,
        touch: Option<&Bound<'py, PyAny>>,
        count: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if self.waiting {
            return Err(PyRuntimeError::new_err("answer() the awaited call before complete() goes on"));
        }
        let c = self.completion()?;
        c.set_host_writes(save.is_some(), touch.is_some());
        c.set_host_counts(count.is_some());
        // Core's loop; a callable that answers with an awaitable stops it there.
        let flow = c.drive(
            |hash| answer(lookup.call1((hash,)), record_arg),
            |key| answer(get.call1((key,)), state_arg),
            |action| match (action, save, touch) {
                (Action::CompareAndSet(w), _, _) => {
                    let (expected, new) =
                        (w.expected.map(|inner| RateLimitState { inner }), RateLimitState { inner: w.new });
                    answer(compare_and_set.call1((w.key.as_str(), expected, new, w.ttl_seconds)), truthy)
                }
                (Action::SaveRecord(record), Some(save), _) => {
                    answer(save.call1((KeyRecord::from(record.clone()),)), |_| Ok(true))
                }
                (Action::TouchLastUsed { key_id, at }, _, Some(touch)) => {
                    answer(touch.call1((key_id, at)), |_| Ok(true))
                }
                (Action::CountRequest { key_id }, _, _) => match count {
                    Some(count) => answer(count.call1((key_id,)), |_| Ok(true)),
                    None => ControlFlow::Continue(true),
                },
                _ => ControlFlow::Continue(true),
            },
        );
        if let ControlFlow::Break(stopped) = flow {
            self.waiting = stopped.is_ok();
            return stopped;
        }
        if matches!(c.next_action(), Action::StoreContended) {
            return Err(PyRuntimeError::new_err("keyproof: the rate-limit store kept refusing the compare-and-set"));
        }
        let outcome = self.inner.take().and_then(Completion::into_outcome).ok_or_else(finished_error)?;
        Ok(Bound::new(py, Decision { inner: outcome.decision })?.into_any())
    }

    /// Answers the call `complete()` made (its awaited result, when it returned an awaitable).
    fn answer(&mut self, value: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        self.waiting = false;
        let c = self.completion()?;
        match c.next_action() {
            Action::LookupRecord(_) => c.shared_record(record_arg(value)?),
            Action::LoadRateState(_) => c.rate_state(state_arg(value)?),
            Action::CompareAndSet(_) => c.written(truthy(value)?),
            Action::SaveRecord(_) => c.saved(),
            Action::TouchLastUsed { .. } => c.touched(),
            Action::CountRequest { .. } => c.counted(),
            Action::StoreContended | Action::Done(_) => {}
        }
        Ok(())
    }

    /// The next compare-and-set the decision needs so far, or None: the rate-limit
    /// bucket's, then (after `rate_written()`) a usage-limited key's counter.
    #[getter]
    fn rate_write(&mut self) -> Option<RateWrite> {
        self.live().ok()?.rate_write().map(|inner| RateWrite { inner })
    }

    /// The compare-and-set of `rate_write` won: `rate_write` moves on to the next write.
    fn rate_written(&mut self) -> PyResult<()> {
        self.live()?.rate_written();
        Ok(())
    }

    /// True once the decision is made (by `finish()` or `complete()`).
    #[getter]
    fn finished(&mut self) -> bool {
        self.live().is_err()
    }

    /// The decision and what to write. Ends the verification.
    fn finish(&mut self) -> PyResult<Outcome> {
        let outcome = self.inner.take().and_then(Completion::into_outcome).ok_or_else(finished_error)?;
        Ok(Outcome { inner: outcome })
    }

    fn __repr__(&mut self) -> String {
        let step = self.live().ok().map(|v| step_of(v.next_step()).0);
        format!("Verification(step={})", step.map_or("None".to_string(), |name| format!("'{name}'")))
    }
}

/// A host function's answer as core takes it, or the loop stopped: at an
/// awaitable (returned; its step stays open) or at an error.
fn answer<'py, T>(
    called: PyResult<Bound<'py, PyAny>>,
    convert: impl FnOnce(Option<&Bound<'py, PyAny>>) -> PyResult<T>,
) -> ControlFlow<PyResult<Bound<'py, PyAny>>, T> {
    match called {
        Err(e) => ControlFlow::Break(Err(e)),
        Ok(answer) if is_awaitable(&answer) => ControlFlow::Break(Ok(answer)),
        Ok(answer) => match convert(Some(&answer)) {
            Ok(value) => ControlFlow::Continue(value),
            Err(e) => ControlFlow::Break(Err(e)),
        },
    }
}

/// A compare-and-set's answer: whether the store took the write.
fn truthy(value: Option<&Bound<'_, PyAny>>) -> PyResult<bool> {
    Ok(value.map(Bound::is_truthy).transpose()?.unwrap_or(false))
}

wrap! {
    /// Store `new` under `key` if the stored state is still `expected` (compare-and-set);
    /// the bucket is full again after `ttl_seconds`.
    #[derive(Clone, PartialEq)]
    RateWrite(keyproof::RateWrite) [eq] repr(key, ttl_seconds) fields(key, ttl_seconds) |w| {
        expected: Option<RateLimitState> = w.expected.map(|inner| RateLimitState { inner });
        new: RateLimitState = RateLimitState { inner: w.new };
    }
}

wrap! {
    /// A charge after the fact (`KeyRecord.charge`): the counter's `write` to
    /// compare-and-set (None: nothing changes), the `usage` left once it is made,
    /// and the units left `unpaid` (beyond what the key had left).
    #[derive(Clone, PartialEq)]
    Charge(keyproof::Charged) [eq] repr(unpaid) fields(unpaid) |c| {
        write: Option<RateWrite> = c.write.clone().map(|inner| RateWrite { inner });
        usage: RateLimitDecision = RateLimitDecision { inner: c.usage.clone() };
    }
}

dumps!(Charge);

wrap! {
    /// A finished verification: the `decision`, the `rate_write` and then the
    /// `usage_write` (a usage-limited key's counter) to make (or None), and
    /// the `upgraded_record` to save to finish a hash migration (or None), and
    /// `touch_last_used`: the instant to write as the record's `last_used_at` (or None).
    Outcome(keyproof::Outcome) [] |o| {
        decision: Decision = Decision { inner: o.decision.clone() };
        rate_write: Option<RateWrite> = o.rate_write.clone().map(|inner| RateWrite { inner });
        usage_write: Option<RateWrite> = o.usage_write.clone().map(|inner| RateWrite { inner });
        upgraded_record: Option<KeyRecord> = o.upgraded_record.as_deref().cloned().map(KeyRecord::from);
        touch_last_used: Option<DateTime<Utc>> = o.touch_last_used;
    }
}
