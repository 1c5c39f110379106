//! Starting the editor window: choose the compute device, share it with egui's renderer when
//! it is a GPU, load the model, run eframe.

use std::path::PathBuf;

use burn::tensor::Device;
use eframe::egui_wgpu::{WgpuSetup, WgpuSetupExisting};
use thiserror::Error;

use super::dialogs::DialogMode;
use super::editor::{Editor, EditorOptions};
use super::files::default_config_dir;
use crate::engine::device::{DeviceChoice, adapters, cpu};
use crate::engine::sampler::Tiling;
use crate::engine::{EngineError, weights};

#[derive(Debug, Error)]
pub enum LaunchError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("the window could not be opened: {0}")]
    Window(String),
}

/// Where the engine runs, and the wgpu setup egui should reuse (when it is a GPU).
struct Compute {
    device: Device,
    note: String,
    shared: Option<WgpuSetupExisting>,
}

fn compute(choice: DeviceChoice) -> Result<Compute, EngineError> {
    let list = adapters();
    let hardware = list.iter().find(|a| {
        use burn::tensor::wgpu::wgpu::DeviceType;
        matches!(
            a.kind,
            DeviceType::DiscreteGpu | DeviceType::IntegratedGpu | DeviceType::VirtualGpu
        )
    });
    let want_wgpu = match choice {
        DeviceChoice::Cpu => false,
        DeviceChoice::Auto => hardware.is_some(),
        DeviceChoice::Wgpu => true,
    };
    if !want_wgpu {
        let c = cpu();
        return Ok(Compute {
            device: c.device,
            note: c.description,
            shared: None,
        });
    }
    let adapter = hardware
        .or_else(|| list.first())
        .ok_or_else(|| EngineError::Device("no wgpu adapter".into()))?;
    let kind = if hardware.is_some() {
        burn::tensor::DeviceKind::DefaultDevice
    } else {
        burn::tensor::DeviceKind::Cpu
    };
    // burn creates the device with every feature its kernels need; egui then renders on the
    // same device, so results reach the screen without a second GPU context.
    let (device, setup) = Device::wgpu_options()
        .device_kind(kind)
        .init_with_setup()
        .map_err(|e| EngineError::Device(format!("wgpu on {}: {e:?}", adapter.name)))?;
    let shared = WgpuSetupExisting {
        instance: setup.instance,
        adapter: setup.adapter,
        device: setup.device,
        queue: setup.queue,
    };
    Ok(Compute {
        device,
        note: format!("wgpu: {} (shared with the display)", adapter.name),
        shared: Some(shared),
    })
}

/// Open the editor and block until its window closes.
pub fn run(
    choice: DeviceChoice,
    model: Option<PathBuf>,
    open: Option<PathBuf>,
    tile: usize,
) -> Result<(), LaunchError> {
    let compute = compute(choice)?;
    let (model, inpainter) = match &model {
        Some(path) => (weights::load(path, &compute.device)?, None),
        None => (
            weights::default_model(&compute.device)?,
            Some(weights::inpaint_model(&compute.device)?),
        ),
    };
    let mut native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_inner_size([1360.0, 860.0])
            .with_title("bcm-studio")
            .with_drag_and_drop(true),
        ..Default::default()
    };
    if let Some(shared) = compute.shared {
        native.wgpu_options.wgpu_setup = WgpuSetup::Existing(shared);
    }
    let options = EditorOptions {
        model,
        inpainter,
        tiling: Tiling {
            tile,
            ..Tiling::default()
        },
        config_dir: default_config_dir(),
        dialogs: DialogMode::Native,
        open,
        device_note: compute.note,
        runs_dir: PathBuf::from("runs"),
    };
    eframe::run_native(
        "bcm-studio",
        native,
        Box::new(move |cc| Ok(Box::new(Editor::new(&cc.egui_ctx, options)))),
    )
    .map_err(|e| LaunchError::Window(e.to_string()))
}
