//! Stroke and region edits: the user paints rough colour over the photo; the edited photo is
//! inverted part of the way to noise (σ_edit) and regenerated, so the strokes become
//! plausible content. The change is limited to a region mask.

use crate::engine::error::{EngineError, Result};
use crate::engine::mask::Mask;
use crate::engine::model::Bcm;
use crate::engine::noise::NoiseRng;
use crate::engine::plan::{GenerationPreset, Op, Plan};
use crate::engine::planar::Planar;
use crate::engine::sampler::{Monitor, Tiling};
use crate::engine::schedule::{SIGMA_MIN, in_range};

use super::{Output, crop, work_region};

#[derive(Debug, Clone)]
pub struct EditParams {
    /// How far towards noise the edited photo goes before regeneration: small keeps the
    /// strokes' layout and colours, large invents more.
    pub sigma: f32,
    /// Generation scheme from σ_edit back to the clean end.
    pub preset: GenerationPreset,
    pub grow: usize,
    pub feather: usize,
    pub context: usize,
    pub seed: u64,
}

impl Default for EditParams {
    fn default() -> Self {
        Self {
            sigma: 2.0,
            preset: GenerationPreset::TwoStep,
            grow: 8,
            feather: 12,
            context: 64,
            seed: 0,
        }
    }
}

/// The plan used for an edit: invert to σ_edit (after the reference's 0.07 start noise), then
/// generate back.
pub fn edit_plan(p: &EditParams) -> Result<Plan> {
    if !in_range(p.sigma) || p.sigma <= 0.07 {
        return Err(EngineError::Schedule(format!(
            "edit level {} must be in (0.07, 80]",
            p.sigma
        )));
    }
    let down = p.preset.plan_from(p.sigma);
    let mut ops = vec![Op::Noise(0.07), Op::Hop(p.sigma)];
    ops.extend(down.ops);
    let plan = Plan {
        start: SIGMA_MIN,
        ops,
    };
    plan.validate()?;
    Ok(plan)
}

/// `edited` is the photo with the strokes painted in; `region` limits the change.
pub fn edit(
    model: &Bcm,
    edited: &Planar,
    region: &Mask,
    p: &EditParams,
    tiling: &Tiling,
    monitor: &mut dyn Monitor,
) -> Result<Output> {
    if (region.width, region.height) != (edited.width, edited.height) {
        return Err(EngineError::SizeMismatch(format!(
            "region mask is {}x{}, image is {}x{}",
            region.width, region.height, edited.width, edited.height
        )));
    }
    let plan = edit_plan(p)?;
    let soft = region.grown_and_feathered(p.grow, p.feather);
    let rect = work_region(&soft, p.context, model.config.alignment()).ok_or_else(|| {
        EngineError::Parameter("the edit region is empty: paint strokes or a mask".into())
    })?;
    let part = crop(edited, rect);
    let mut regenerated = model.run(
        part.clone(),
        &plan,
        &mut NoiseRng::new(p.seed),
        tiling,
        monitor,
    )?;
    regenerated.clamp_unit();
    let blended = part.blend(&regenerated, &soft.crop(rect).data);
    let mut full = edited.clone();
    full.paste(
        &blended,
        0,
        0,
        rect.height(),
        rect.width(),
        rect.y0,
        rect.x0,
    );
    Ok(Output {
        image: full,
        mask: Some(soft),
        nfe: plan.nfe(),
    })
}
