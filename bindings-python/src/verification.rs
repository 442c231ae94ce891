//! The verification step for Python hosts: `Verification` (core's step, plus
//! `complete()`: the whole host loop in one native call), `RateWrite`, `Outcome`.
//! Python's `Verifier` is `complete()` with the host's I/O callables: sync hosts
//! return from one call; async hosts await what it hands back and call again.

use std::ops::ControlFlow;

use chrono::{DateTime, Utc};
use keyproof::Step;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

use crate::engine::Decision;
use crate::errors::to_py_err;
use crate::record::{record_arg, KeyRecord};
use crate::values::{state_arg, RateLimitState};

/// Where `complete()` is in the host's loop.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Answering lookups and state loads (core's steps).
    Steps,
    /// Writing the rate state by compare-and-set (`tries` made so far).
    Write {
        tries: u32,
    },
    /// Re-reading the state after a lost compare-and-set.
    Reread {
        tries: u32,
    },
    /// Finished: saving an upgraded record, then writing last use, then done.
    Save,
    Touch,
    Done,
}

/// One request being verified, without I/O: ask `next_step()` what the host must
/// do, answer with `record()` / `rate_state()`, then `finish()`; or let
/// `complete()` run the whole loop with the host's callables.
#[pyclass(module = "keyproof")]
pub struct Verification {
    inner: Option<keyproof::Verification>,
    outcome: Option<keyproof::Outcome>,
    phase: Phase,
    /// `complete()` returned an awaitable for the current phase; `answer()` takes its result.
    waiting: bool,
}

impl Verification {
    pub(crate) fn new(inner: keyproof::Verification) -> Self {
        Self { inner: Some(inner), outcome: None, phase: Phase::Steps, waiting: false }
    }

    fn live(&mut self) -> PyResult<&mut keyproof::Verification> {
        self.inner.as_mut().ok_or_else(finished_error)
    }

    fn end(&mut self) -> PyResult<()> {
        self.outcome = Some(self.inner.take().ok_or_else(finished_error)?.finish());
        self.phase = Phase::Save;
        Ok(())
    }

    fn outcome(&self) -> PyResult<&keyproof::Outcome> {
        self.outcome.as_ref().ok_or_else(finished_error)
    }

    /// Takes the answer to the current phase's call and moves on.
    fn take_answer(&mut self, value: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        match self.phase {
            Phase::Steps => match self.next_step()?.0 {
                "lookup" => self.record(value),
                _ => self.rate_state(value),
            },
            Phase::Write { tries } => {
                if value.map(Bound::is_truthy).transpose()?.unwrap_or(false) {
                    return self.end();
                }
                self.phase = Phase::Reread { tries };
                Ok(())
            }
            Phase::Reread { tries } => {
                self.rate_state(value)?;
                self.phase = Phase::Write { tries };
                Ok(())
            }
            Phase::Save => {
                self.phase = Phase::Touch;
                Ok(())
            }
            Phase::Touch | Phase::Done => {
                self.phase = Phase::Done;
                Ok(())
            }
        }
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

fn is_awaitable(value: &Bound<'_, PyAny>) -> bool {
    value.get_type().hasattr("__await__").unwrap_or(false)
}

#[pymethods]
impl Verification {
    /// `("lookup", hash)`: look a record up under this storage hash; `("rate_state",
    /// key)`: load the rate-limit state stored under this key; `("done", None)`.
    fn next_step(&self) -> PyResult<(&'static str, Option<String>)> {
        self.inner.as_ref().map(|v| step_of(v.next_step())).ok_or_else(finished_error)
    }

    /// Answers the lookup step: the record stored under the hash (`KeyRecord`, dict,
    /// JSON text) or None (the next lookup hash is asked for, if any).
    fn record(&mut self, record: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let record = record_arg(record)?;
        self.live()?.record(record);
        Ok(())
    }

    /// Answers the rate-state step with the stored state (or None). Again after a
    /// lost compare-and-set, with the fresh state: the rate limit is recomputed.
    fn rate_state(&mut self, state: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let state = state_arg(state)?;
        self.live()?.rate_state(state);
        Ok(())
    }

    /// Answers the rate-state step with "the store failed" (or gives up after a lost
    /// compare-and-set): core answers per `on_error` — `"fail_closed"`: 503
    /// `rate_limit_unavailable` with `Retry-After: retry_after_seconds`;
    /// `"fail_open"`: allowed, no rate-limit headers, warning `rate_limit_unavailable`.
    #[pyo3(signature = (on_error="fail_closed", retry_after_seconds=1))]
    fn rate_state_unavailable(&mut self, on_error: &str, retry_after_seconds: u32) -> PyResult<()> {
        let failure = keyproof::RateStoreFailure::new(on_error, retry_after_seconds).map_err(to_py_err)?;
        self.live()?.rate_state_unavailable(failure);
        if let Phase::Write { tries } | Phase::Reread { tries } = self.phase {
            self.phase = Phase::Write { tries };
        }
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

    /// The whole host loop in one call: lookups and state loads, the compare-and-set
    /// of the rate write (re-reading the state after a lost race, at most `max_tries`
    /// writes), then `save(upgraded_record)` and `touch(key_id, at)` when core asks
    /// for them (either may be None). Returns the `Decision`, or the first awaitable
    /// a callable returns: await it, pass its result to `answer()`, call again.
    #[pyo3(signature = (lookup, get, compare_and_set, save=None, touch=None, max_tries=32))]
    #[allow(clippy::too_many_arguments)] // Python keyword arguments, not a Rust API
    fn complete<'py>(
        &mut self,
        py: Python<'py>,
        lookup: &Bound<'py, PyAny>,
        get: &Bound<'py, PyAny>,
        compare_and_set: &Bound<'py, PyAny>,
        save: Option<&Bound<'py, PyAny>>,
        touch: Option<&Bound<'py, PyAny>>,
        max_tries: u32,
    ) -> PyResult<Bound<'py, PyAny>> {
        if self.waiting {
            return Err(PyRuntimeError::new_err("answer() the awaited call before complete() goes on"));
        }
        let called = loop {
            let called = match self.phase {
                Phase::Steps => match self.drive(lookup, get)? {
                    Some(awaitable) => break awaitable,
                    None => {
                        self.phase = Phase::Write { tries: 0 };
                        continue;
                    }
                },
                Phase::Write { tries } => {
                    let Some(write) = self.live()?.rate_write() else {
                        self.end()?;
                        continue;
                    };
                    if tries >= max_tries {
                        return Err(PyRuntimeError::new_err(
                            "keyproof: the rate-limit store kept refusing the compare-and-set",
                        ));
                    }
                    self.phase = Phase::Write { tries: tries.saturating_add(1) };
                    let expected = write.expected.map(|inner| RateLimitState { inner });
                    let new = RateLimitState { inner: write.new };
                    compare_and_set.call1((write.key, expected, new, write.ttl_seconds))?
                }
                Phase::Reread { .. } => {
                    let key = self.live()?.rate_write().map(|w| w.key).unwrap_or_default();
                    get.call1((key,))?
                }
                Phase::Save => match (save, self.outcome()?.upgraded_record.clone()) {
                    (Some(save), Some(record)) => save.call1((KeyRecord { inner: record },))?,
                    _ => {
                        self.phase = Phase::Touch;
                        continue;
                    }
                },
                Phase::Touch => {
                    let outcome = self.outcome()?;
                    let key_id = outcome.decision.principal.as_ref().map(|p| p.key_id.clone());
                    match (touch, key_id, outcome.touch_last_used) {
                        (Some(touch), Some(key_id), Some(at)) => touch.call1((key_id, at))?,
                        _ => {
                            self.phase = Phase::Done;
                            continue;
                        }
                    }
                }
                Phase::Done => {
                    let decision = self.outcome()?.decision.clone();
                    return Ok(Bound::new(py, Decision { inner: decision })?.into_any());
                }
            };
            if is_awaitable(&called) {
                break called;
            }
            self.take_answer(Some(&called))?;
        };
        self.waiting = true;
        Ok(called)
    }

    /// Answers the call `complete()` returned as an awaitable, with its awaited result.
    fn answer(&mut self, value: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        self.waiting = false;
        self.take_answer(value)
    }

    /// The rate-limit write the decision needs so far, or None.
    #[getter]
    fn rate_write(&self) -> Option<RateWrite> {
        self.inner.as_ref().and_then(keyproof::Verification::rate_write).map(|inner| RateWrite { inner })
    }

    /// True once the decision is made (by `finish()` or `complete()`).
    #[getter]
    fn finished(&self) -> bool {
        self.inner.is_none()
    }

    /// The decision and what to write. Ends the verification.
    fn finish(&mut self) -> PyResult<Outcome> {
        Ok(Outcome { inner: self.inner.take().ok_or_else(finished_error)?.finish() })
    }

    fn __repr__(&self) -> String {
        let step = self.inner.as_ref().map(|v| step_of(v.next_step()).0);
        format!("Verification(step={})", step.map_or("None".to_string(), |name| format!("'{name}'")))
    }
}

/// A host function's answer as core takes it, or the loop stopped: at an
/// awaitable (returned; its step stays open) or at an error.
fn answer<'py, T>(
    called: PyResult<Bound<'py, PyAny>>,
    convert: impl FnOnce(Option<&Bound<'py, PyAny>>) -> PyResult<T>,
) -> ControlFlow<PyResult<Bound<'py, PyAny>>, T> {
    let answer = match called {
        Ok(answer) => answer,
        Err(e) => return ControlFlow::Break(Err(e)),
    };
    match convert(Some(&answer)) {
        Ok(value) => ControlFlow::Continue(value),
        Err(_) if is_awaitable(&answer) => ControlFlow::Break(Ok(answer)),
        Err(e) => ControlFlow::Break(Err(e)),
    }
}

wrap! {
    /// Store `new` under `key` if the stored state is still `expected` (compare-and-set);
    /// the bucket is full again after `ttl_seconds`.
    #[derive(Clone, PartialEq)]
    RateWrite(keyproof::RateWrite) [eq] repr(key, ttl_seconds) |w| {
        key: &str = &w.key;
        expected: Option<RateLimitState> = w.expected.map(|inner| RateLimitState { inner });
        new: RateLimitState = RateLimitState { inner: w.new };
        ttl_seconds: u64 = w.ttl_seconds;
    }
}

wrap! {
    /// A finished verification: the `decision`, the `rate_write` to make (or None) and
    /// the `upgraded_record` to save to finish a hash migration (or None), and
    /// `touch_last_used`: the instant to write as the record's `last_used_at` (or None).
    Outcome(keyproof::Outcome) [] |o| {
        decision: Decision = Decision { inner: o.decision.clone() };
        rate_write: Option<RateWrite> = o.rate_write.clone().map(|inner| RateWrite { inner });
        upgraded_record: Option<KeyRecord> = o.upgraded_record.clone().map(|inner| KeyRecord { inner });
        touch_last_used: Option<DateTime<Utc>> = o.touch_last_used;
    }
}
