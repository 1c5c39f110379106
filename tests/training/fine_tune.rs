//! The paper's second route: a consistency model fine-tuned into a BCM that starts equal to it.

use super::*;

#[test]
fn a_consistency_model_becomes_an_equal_bcm() {
    use bcm_studio::engine::model::cm_skip;
    use bcm_studio::engine::weights::{self, ModelCard};
    use bcm_studio::engine::{Bcm, Progress, Tiling};
    let d = tempdir("finetune");
    photo_folder(&d.join("photos"), 4);
    let device = Device::flex();
    // A consistency model (t only) with non-trivial weights.
    let cm_config = UNetConfig {
        bidirectional: false,
        ..UNetConfig::tiny()
    };
    let mut cm = Bcm::random(cm_config.clone(), 1, &device).unwrap();
    device.seed(2);
    cm.net = common::jitter(cm.net, 0.05);
    let cm_path = d.join("cm.safetensors");
    let mut card = ModelCard::new("cm", cm_config);
    card.steps = 1234;
    weights::save(&cm, &card, &cm_path).unwrap();

    let mut config = tiny_config(&d.join("photos"));
    config.init = Some(cm_path);
    let t = Trainer::start(config, &d.join("run"), &device).unwrap();
    // The new run's cards count the steps behind its starting weights.
    assert_eq!(t.card().steps, 1234);
    assert!(t.card().notes.contains("cm.safetensors (1234 steps)"));
    let bcm = t.ema_model();
    assert!(bcm.config.bidirectional && bcm.net.is_bidirectional());
    let x = common::noise_image(16, 16, 1.0, 3);
    let max_x = x.data.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let tiling = Tiling::default();
    for &t_level in &[0.1f32, 1.0, 10.0, 80.0] {
        let p = Progress {
            nfe: 0,
            nfe_total: 1,
            tile: 0,
            tiles: 1,
            level: t_level,
        };
        let a = cm
            .eval(&x, t_level, SIGMA_MIN, &tiling, &mut (), p)
            .unwrap();
        let b = bcm
            .eval(&x, t_level, SIGMA_MIN, &tiling, &mut (), p)
            .unwrap();
        // Only the boundary scaling differs: |c_skip^BCM − c_skip^CM|·|x|.
        let bound = (c_skip(t_level, SIGMA_MIN) - cm_skip(t_level)).abs() * max_x + 1e-4;
        let diff = common::max_abs_diff(&a, &b);
        assert!(diff <= bound, "t = {t_level}: {diff} > {bound}");
    }
    // Where the u-branch matters (u ≠ σ_min) the new BCM can invert; the CM refuses to.
    let p = Progress {
        nfe: 0,
        nfe_total: 1,
        tile: 0,
        tiles: 1,
        level: 0.1,
    };
    assert!(cm.eval(&x, 0.1, 5.0, &tiling, &mut (), p).is_err());
    assert!(bcm.eval(&x, 0.1, 5.0, &tiling, &mut (), p).is_ok());
    std::fs::remove_dir_all(&d).unwrap();
}
