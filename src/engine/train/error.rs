use thiserror::Error;

use crate::engine::EngineError;

#[derive(Debug, Error)]
pub enum TrainError {
    #[error("training data: {0}")]
    Data(String),
    #[error("run folder: {0}")]
    Run(String),
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    #[error("invalid training setting: {0}")]
    Setting(String),
    #[error("the loss is not finite at step {0}; lower the learning rate")]
    Diverged(u64),
    #[error(transparent)]
    Engine(#[from] EngineError),
}
