//! Choosing where the network runs: burn's wgpu backend on a real GPU when there is one,
//! otherwise burn's `flex` CPU backend. A CPU-type Vulkan adapter (Mesa lavapipe) is only
//! used when asked for explicitly: it is correct but far slower than `flex`.

use std::fmt;
use std::str::FromStr;

use burn::tensor::wgpu::wgpu;
use burn::tensor::{Device, DeviceKind};

use super::error::{EngineError, Result};

/// What the user asked for (`--device`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceChoice {
    /// A hardware GPU through wgpu if present, else the CPU.
    #[default]
    Auto,
    /// burn's `flex` CPU backend.
    Cpu,
    /// wgpu on the best adapter, including a software (CPU-type) one.
    Wgpu,
}

impl FromStr for DeviceChoice {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "cpu" | "flex" => Ok(Self::Cpu),
            "gpu" | "wgpu" => Ok(Self::Wgpu),
            other => Err(EngineError::Device(format!(
                "unknown device '{other}' (auto, cpu, wgpu)"
            ))),
        }
    }
}

impl fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Auto => "auto",
            Self::Cpu => "cpu",
            Self::Wgpu => "wgpu",
        })
    }
}

/// A ready device and a one-line description of it.
#[derive(Debug, Clone)]
pub struct SelectedDevice {
    pub device: Device,
    pub description: String,
    pub is_gpu: bool,
}

/// A graphics adapter wgpu can see.
#[derive(Debug, Clone)]
pub struct AdapterSummary {
    pub name: String,
    pub backend: String,
    pub kind: wgpu::DeviceType,
}

/// Adapters visible to wgpu (Vulkan, Metal, DX12, GL).
pub fn adapters() -> Vec<AdapterSummary> {
    let instance = wgpu::Instance::default();
    pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()))
        .into_iter()
        .map(|a| {
            let info = a.get_info();
            AdapterSummary {
                name: info.name,
                backend: format!("{:?}", info.backend),
                kind: info.device_type,
            }
        })
        .collect()
}

fn hardware_kind(kind: wgpu::DeviceType) -> Option<DeviceKind> {
    match kind {
        wgpu::DeviceType::DiscreteGpu => Some(DeviceKind::DiscreteGpu(0)),
        wgpu::DeviceType::IntegratedGpu => Some(DeviceKind::IntegratedGpu(0)),
        wgpu::DeviceType::VirtualGpu => Some(DeviceKind::VirtualGpu(0)),
        wgpu::DeviceType::Cpu | wgpu::DeviceType::Other => None,
    }
}

/// The CPU device.
pub fn cpu() -> SelectedDevice {
    SelectedDevice {
        device: Device::flex(),
        description: "CPU (burn flex)".into(),
        is_gpu: false,
    }
}

fn init_wgpu(kind: DeviceKind, adapter: &AdapterSummary) -> Result<SelectedDevice> {
    let device = Device::wgpu_options()
        .device_kind(kind)
        .init()
        .map_err(|e| EngineError::Device(format!("wgpu on {}: {e:?}", adapter.name)))?;
    let software = adapter.kind == wgpu::DeviceType::Cpu;
    Ok(SelectedDevice {
        device,
        description: format!(
            "wgpu: {} ({}{})",
            adapter.name,
            adapter.backend,
            if software {
                ", software rendering, slow"
            } else {
                ""
            }
        ),
        is_gpu: !software,
    })
}

/// Resolve a choice to a device.
pub fn select(choice: DeviceChoice) -> Result<SelectedDevice> {
    match choice {
        DeviceChoice::Cpu => Ok(cpu()),
        DeviceChoice::Auto => {
            let found = adapters()
                .into_iter()
                .find_map(|a| hardware_kind(a.kind).map(|k| (k, a)));
            match found {
                Some((kind, adapter)) => init_wgpu(kind, &adapter).or_else(|_| Ok(cpu())),
                None => Ok(cpu()),
            }
        }
        DeviceChoice::Wgpu => {
            let list = adapters();
            if let Some((kind, adapter)) = list
                .iter()
                .find_map(|a| hardware_kind(a.kind).map(|k| (k, a)))
            {
                return init_wgpu(kind, adapter);
            }
            let adapter = list
                .iter()
                .find(|a| a.kind == wgpu::DeviceType::Cpu)
                .ok_or_else(|| {
                    EngineError::Device("no wgpu adapter found (install a Vulkan driver)".into())
                })?;
            init_wgpu(DeviceKind::Cpu, adapter)
        }
    }
}
