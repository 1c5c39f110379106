//! Background training for the editor's training tab: a thread that owns a [`Trainer`],
//! takes commands (pause, resume, stop, save now, sample now) and reports events. It yields
//! the device to interactive editor jobs between steps.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};
use std::thread::JoinHandle;
use std::time::Duration;

use burn::tensor::Device;

use crate::engine::model::Bcm;
use crate::engine::train::driver::{Control, Event as TrainEvent, Request, drive};
use crate::engine::train::{ResumeChanges, TrainConfig, TrainError, Trainer};

/// How a run starts.
#[derive(Debug, Clone)]
pub enum Start {
    New {
        config: Box<TrainConfig>,
        run: PathBuf,
    },
    Resume {
        run: PathBuf,
        until: u64,
        /// Where the run's photos are now, when they moved.
        data: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Pause,
    Resume,
    Stop,
    SaveNow,
    SampleNow,
}

/// What the training thread reports.
#[derive(Debug, Clone)]
pub enum TrainingEvent {
    Started {
        run: PathBuf,
        step: u64,
        until: u64,
        config: Box<TrainConfig>,
        photos: usize,
        held_out: usize,
    },
    Progress(TrainEvent),
    Paused(bool),
    Finished {
        step: u64,
        model: Option<Box<Bcm>>,
    },
    Failed(String),
}

struct Channel {
    commands: Receiver<Command>,
    events: Sender<TrainingEvent>,
    waker: Arc<dyn Fn() + Send + Sync>,
    editor_busy: Arc<AtomicBool>,
    paused: bool,
    pending: Vec<Request>,
}

impl Channel {
    fn send(&self, e: TrainingEvent) {
        let _ = self.events.send(e);
        (self.waker)();
    }

    fn apply(&mut self, c: Command) -> Option<Request> {
        match c {
            Command::Pause => {
                self.paused = true;
                self.send(TrainingEvent::Paused(true));
                None
            }
            Command::Resume => {
                self.paused = false;
                self.send(TrainingEvent::Paused(false));
                None
            }
            Command::Stop => Some(Request::Stop),
            Command::SaveNow => Some(Request::SaveNow),
            Command::SampleNow => Some(Request::SampleNow),
        }
    }
}

impl Control for Channel {
    fn next_request(&mut self) -> Request {
        if let Some(r) = self.pending.pop() {
            return r;
        }
        loop {
            match self.commands.try_recv() {
                Ok(c) => {
                    if let Some(r) = self.apply(c) {
                        return r;
                    }
                }
                Err(TryRecvError::Disconnected) => return Request::Stop,
                Err(TryRecvError::Empty) => {
                    if self.paused {
                        match self.commands.recv_timeout(Duration::from_millis(200)) {
                            Ok(c) => {
                                if let Some(r) = self.apply(c) {
                                    return r;
                                }
                            }
                            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                                return Request::Stop;
                            }
                            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                        }
                    } else if self.editor_busy.load(Ordering::Acquire) {
                        // Interactive work has priority on the device.
                        std::thread::sleep(Duration::from_millis(25));
                    } else {
                        return Request::Continue;
                    }
                }
            }
        }
    }

    fn event(&mut self, event: TrainEvent) {
        self.send(TrainingEvent::Progress(event));
    }
}

/// The tab's handle on a training thread.
pub struct TrainingRunner {
    commands: Sender<Command>,
    events: Receiver<TrainingEvent>,
    thread: Option<JoinHandle<()>>,
}

fn open(start: Start, device: &Device) -> Result<(Trainer, u64), TrainError> {
    Ok(match start {
        Start::New { config, run } => {
            let until = config.total_steps;
            (Trainer::start(*config, &run, device)?, until)
        }
        Start::Resume { run, until, data } => {
            let changes = ResumeChanges {
                data,
                ..ResumeChanges::default()
            };
            let t = Trainer::resume_with(&run, device, &changes)?;
            let until = until.max(t.step + 1);
            (t, until)
        }
    })
}

impl TrainingRunner {
    pub fn spawn(
        start: Start,
        device: Device,
        editor_busy: Arc<AtomicBool>,
        waker: Arc<dyn Fn() + Send + Sync>,
    ) -> Self {
        let (ctx, crx) = channel();
        let (etx, erx) = channel();
        let thread = std::thread::Builder::new()
            .name("bcm-training".into())
            .spawn(move || {
                let mut chan = Channel { commands: crx, events: etx, waker, editor_busy, paused: false, pending: Vec::new() };
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| -> Result<(u64, Bcm), TrainError> {
                    let (mut trainer, until) = open(start, &device)?;
                    chan.send(TrainingEvent::Started {
                        run: trainer.run.clone(),
                        step: trainer.step,
                        until,
                        config: Box::new(trainer.config.clone()),
                        photos: trainer.photos.train.len(),
                        held_out: trainer.photos.validation.len(),
                    });
                    drive(&mut trainer, until, &mut chan)?;
                    Ok((trainer.step, trainer.ema_model().clone()))
                }));
                match result {
                    Ok(Ok((step, model))) => chan.send(TrainingEvent::Finished { step, model: Some(Box::new(model)) }),
                    Ok(Err(e)) => chan.send(TrainingEvent::Failed(e.to_string())),
                    Err(_) => chan.send(TrainingEvent::Failed("training failed unexpectedly (out of memory?); the last checkpoint is intact".into())),
                }
            })
            .ok();
        Self {
            commands: ctx,
            events: erx,
            thread,
        }
    }

    pub fn send(&self, c: Command) {
        let _ = self.commands.send(c);
    }

    pub fn poll(&self) -> Vec<TrainingEvent> {
        self.events.try_iter().collect()
    }

    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }
}

impl Drop for TrainingRunner {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
