//! The inpainting objective: a model that reads a hole's mask, started from a plain model.

use super::*;

#[test]
fn an_inpainting_run_starts_as_the_plain_model_and_learns_to_read_the_mask() {
    use bcm_studio::engine::Mask;
    use bcm_studio::engine::tasks::{self, CONDITION_CHANNELS, InpaintParams, conditioned_inputs};
    use bcm_studio::engine::train::Objective;
    use bcm_studio::engine::weights::{self, ModelCard};
    use bcm_studio::engine::{Bcm, Progress, Tiling};
    let d = tempdir("inpaint-run");
    photo_folder(&d.join("photos"), 4);
    let device = Device::flex();
    let mut plain = Bcm::random(UNetConfig::tiny(), 1, &device).unwrap();
    device.seed(2);
    plain.net = common::jitter(plain.net, 0.05);
    let plain_path = d.join("plain.safetensors");
    weights::save(
        &plain,
        &ModelCard::new("plain", UNetConfig::tiny()),
        &plain_path,
    )
    .unwrap();

    let mut config = tiny_config(&d.join("photos"));
    config.set_objective(Objective::Inpaint);
    config.init = Some(plain_path);
    let mut t = Trainer::start(config, &d.join("run"), &device).unwrap();
    let start = t.ema_model().clone();
    assert_eq!(start.config.conditioning(), CONDITION_CHANNELS);
    // Whatever the conditioning holds, the new model computes what the plain one did.
    let x = common::noise_image(16, 16, 0.5, 3);
    let mut hole = Mask::empty(16, 16);
    hole.data[5 * 16 + 4..5 * 16 + 12].fill(1.0);
    let (_, condition) = conditioned_inputs(&x, &hole.feather(2));
    let p = Progress {
        nfe: 0,
        nfe_total: 1,
        tile: 0,
        tiles: 1,
        level: 0.5,
    };
    let tiling = Tiling::default();
    let a = plain.eval(&x, 0.5, SIGMA_MIN, &tiling, &mut (), p).unwrap();
    let b = start
        .eval_conditioned(&x, Some(&condition), 0.5, SIGMA_MIN, &tiling, &mut (), p)
        .unwrap();
    assert!(common::max_abs_diff(&a, &b) < 1e-5);
    // A conditioned model asked to work without its mask says so instead of failing inside.
    let refused = start.eval(&x, 0.5, SIGMA_MIN, &tiling, &mut (), p);
    assert!(
        refused
            .unwrap_err()
            .to_string()
            .contains("inpainting model")
    );

    let first = t.step().unwrap();
    assert!(first.loss.is_finite() && first.loss > 0.0);
    for _ in 0..5 {
        t.step().unwrap();
    }
    // Training moved the conditioning's weights: the mask now changes the output.
    let trained = t.ema_model();
    let c = trained
        .eval_conditioned(&x, Some(&condition), 0.5, SIGMA_MIN, &tiling, &mut (), p)
        .unwrap();
    let blank = tasks::conditioned_inputs(&x, &Mask::empty(16, 16)).1;
    let e = trained
        .eval_conditioned(&x, Some(&blank), 0.5, SIGMA_MIN, &tiling, &mut (), p)
        .unwrap();
    assert!(common::max_abs_diff(&c, &e) > 1e-6);
    // Its card says what it reads; inpainting with it keeps the photo outside the mask.
    let card = t.card();
    assert_eq!(card.config.conditioning(), CONDITION_CHANNELS);
    let out = tasks::inpaint(
        trained,
        None,
        &x,
        &hole,
        &InpaintParams::default(),
        &tiling,
        &mut (),
    )
    .unwrap();
    let soft = out.mask.unwrap();
    let shown = x.blend(&out.image, &soft.data);
    for i in 0..256 {
        if soft.data[i] == 0.0 {
            for ch in 0..3 {
                assert_eq!(shown.data[ch * 256 + i], x.data[ch * 256 + i]);
            }
        }
    }
}
