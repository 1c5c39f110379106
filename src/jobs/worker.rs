//! The worker thread and the handle the editor keeps.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::job::{Job, JobError, JobOutput, WorkerState, execute};
use crate::engine::EngineError;
use crate::engine::model::Bcm;
use crate::engine::sampler::{Monitor, Progress, Tiling};
use crate::util::panic::panic_text;

pub type JobId = u64;

/// What the worker reports.
#[derive(Debug, Clone)]
pub enum Event {
    Progress { id: JobId, progress: Progress },
    Finished { id: JobId, output: JobOutput },
    Failed { id: JobId, message: String },
    Cancelled { id: JobId },
}

impl Event {
    pub fn id(&self) -> JobId {
        match self {
            Event::Progress { id, .. }
            | Event::Finished { id, .. }
            | Event::Failed { id, .. }
            | Event::Cancelled { id } => *id,
        }
    }
}

struct Request {
    id: JobId,
    job: Job,
    hold: Option<Arc<HoldState>>,
}

type Waker = Arc<dyn Fn() + Send + Sync>;

struct ThreadMonitor<'a> {
    id: JobId,
    events: &'a Sender<Event>,
    cancel: &'a AtomicBool,
    waker: &'a Waker,
    /// Armed for this job: wait at the first cancel check until released or cancelled.
    hold: Option<Arc<HoldState>>,
}

/// Where a held job stands; shared by the worker and the [`JobHold`] handle.
#[derive(Default)]
struct HoldState {
    /// (the job has reached the hold, the hold was released)
    state: Mutex<(bool, bool)>,
    changed: Condvar,
}

/// A handle on a job that waits at its first check for cancel (before its first network
/// evaluation) until [`JobHold::release`] or a cancel. It lets a caller act while a job is
/// known to be running, whatever the speed of the machine: tests click Cancel on a job that
/// cannot have finished yet.
#[derive(Clone)]
pub struct JobHold {
    state: Arc<HoldState>,
}

impl JobHold {
    /// Whether the held job is waiting at the hold now (or has passed it).
    pub fn reached(&self) -> bool {
        self.state.state.lock().is_ok_and(|s| s.0)
    }

    /// Let the held job go on.
    pub fn release(&self) {
        if let Ok(mut s) = self.state.state.lock() {
            s.1 = true;
        }
        self.state.changed.notify_all();
    }
}

impl HoldState {
    /// Wait until released or `cancel` is set; polls `cancel` because the editor sets it
    /// without knowing of the hold.
    fn wait(&self, cancel: &AtomicBool) {
        let Ok(mut s) = self.state.lock() else {
            return;
        };
        s.0 = true;
        self.changed.notify_all();
        while !s.1 && !cancel.load(Ordering::Acquire) {
            match self.changed.wait_timeout(s, Duration::from_millis(2)) {
                Ok((guard, _)) => s = guard,
                Err(_) => return,
            }
        }
    }
}

impl Monitor for ThreadMonitor<'_> {
    fn progress(&mut self, progress: &Progress) {
        let _ = self.events.send(Event::Progress {
            id: self.id,
            progress: *progress,
        });
        (self.waker)();
    }
    fn cancelled(&self) -> bool {
        if let Some(hold) = &self.hold {
            hold.wait(self.cancel);
        }
        self.cancel.load(Ordering::Relaxed)
    }
}

/// The editor's handle on the worker thread.
pub struct Worker {
    requests: Option<Sender<Request>>,
    events: Receiver<Event>,
    cancel: Arc<AtomicBool>,
    busy: Arc<AtomicBool>,
    current: Option<(JobId, &'static str)>,
    /// A frame asked for while another job ran: only the newest is kept.
    pending_frame: Option<Job>,
    next_id: JobId,
    /// Armed by [`Worker::hold_next_job`] for the next job submitted.
    hold_next: Option<Arc<HoldState>>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    /// Start the thread. `waker` is called after every event (the editor passes
    /// `request_repaint`).
    /// `inpainter`: the model inpainting uses while `model` is the worker's (see
    /// [`WorkerState::inpainter`]).
    pub fn spawn(model: Bcm, inpainter: Option<Bcm>, tiling: Tiling, waker: Waker) -> Worker {
        let (req_tx, req_rx) = channel::<Request>();
        let (ev_tx, ev_rx) = channel::<Event>();
        let cancel = Arc::new(AtomicBool::new(false));
        let busy = Arc::new(AtomicBool::new(false));
        let (cancel_t, busy_t) = (cancel.clone(), busy.clone());
        let thread = std::thread::Builder::new()
            .name("bcm-worker".into())
            .spawn(move || {
                let mut model = model;
                let mut state = WorkerState {
                    inpainter,
                    ..WorkerState::default()
                };
                for Request { id, job, hold } in req_rx {
                    let mut monitor = ThreadMonitor {
                        id,
                        events: &ev_tx,
                        cancel: &cancel_t,
                        waker: &waker,
                        hold,
                    };
                    let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
                        execute(job, &mut model, &tiling, &mut state, &mut monitor)
                    }));
                    let event = match result {
                        Ok(Ok(output)) => Event::Finished { id, output },
                        Ok(Err(JobError::Engine(EngineError::Cancelled))) => {
                            Event::Cancelled { id }
                        }
                        Ok(Err(e)) => Event::Failed {
                            id,
                            message: e.to_string(),
                        },
                        Err(panic) => Event::Failed {
                            id,
                            message: panic_message(&panic),
                        },
                    };
                    busy_t.store(false, Ordering::Release);
                    if ev_tx.send(event).is_err() {
                        break;
                    }
                    waker();
                }
            })
            .ok();
        Worker {
            requests: Some(req_tx),
            events: ev_rx,
            cancel,
            busy,
            current: None,
            pending_frame: None,
            next_id: 1,
            hold_next: None,
            thread,
        }
    }

    /// Start a job. Refused (with the reason) while another job runs, except interpolation
    /// frames, which wait and replace each other.
    pub fn submit(&mut self, job: Job) -> Result<JobId, String> {
        if let Some((_, label)) = self.current {
            if matches!(job, Job::InterpolationFrame { .. }) && label == "interpolation frame" {
                self.pending_frame = Some(job);
                return Ok(0);
            }
            return Err(format!(
                "busy with {label}; wait for it to finish or cancel it"
            ));
        }
        let Some(requests) = &self.requests else {
            return Err("the worker has stopped".into());
        };
        let id = self.next_id;
        self.next_id += 1;
        let label = job.label();
        self.cancel.store(false, Ordering::Release);
        self.busy.store(true, Ordering::Release);
        let hold = self.hold_next.take();
        requests
            .send(Request { id, job, hold })
            .map_err(|_| "the worker has stopped".to_string())?;
        self.current = Some((id, label));
        Ok(id)
    }

    /// Make the next job submitted wait before its first network evaluation until the returned
    /// handle releases it or the job is cancelled.
    pub fn hold_next_job(&mut self) -> JobHold {
        let state = Arc::new(HoldState::default());
        self.hold_next = Some(state.clone());
        JobHold { state }
    }

    /// Ask the running job to stop at its next step.
    pub fn cancel(&mut self) {
        self.pending_frame = None;
        self.cancel.store(true, Ordering::Release);
    }

    /// Events since the last call (never blocks).
    pub fn poll(&mut self) -> Vec<Event> {
        let mut out = Vec::new();
        while let Ok(event) = self.events.try_recv() {
            if !matches!(event, Event::Progress { .. })
                && self.current.is_some_and(|(id, _)| id == event.id())
            {
                self.current = None;
            }
            out.push(event);
        }
        if self.current.is_none()
            && let Some(frame) = self.pending_frame.take()
        {
            let _ = self.submit(frame);
        }
        out
    }

    /// Label of the running job.
    pub fn running(&self) -> Option<&'static str> {
        self.current.map(|(_, label)| label)
    }

    pub fn running_id(&self) -> Option<JobId> {
        self.current.map(|(id, _)| id)
    }

    /// Set while a job runs; background training yields to the editor while it is set.
    pub fn busy_flag(&self) -> Arc<AtomicBool> {
        self.busy.clone()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::Release);
        self.requests = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    format!("the engine failed: {}", panic_text(panic.as_ref()))
}
