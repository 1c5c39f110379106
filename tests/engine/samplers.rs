//! Samplers: seeds, NFE counting, cancel, and ladders that reconstruct more faithfully.

use super::*;

#[test]
fn same_seed_same_result_and_nfe_is_counted() {
    let model = tiny_model(6);
    let plan = GenerationPreset::Zigzag.plan_from(80.0);
    let p = tasks::GenerateParams {
        width: 32,
        height: 24,
        plan,
        seed: 3,
    };
    let a = tasks::generate(&model, &p, &whole(), &mut ()).unwrap();
    let b = tasks::generate(&model, &p, &whole(), &mut ()).unwrap();
    assert_eq!(a.image.data, b.image.data);
    assert_eq!(a.nfe, 3);
    let c = tasks::generate(
        &model,
        &tasks::GenerateParams { seed: 4, ..p },
        &whole(),
        &mut (),
    )
    .unwrap();
    assert_ne!(a.image.data, c.image.data);
}

struct Counter {
    evaluations: usize,
    cancel_after: Option<usize>,
}

impl Monitor for Counter {
    fn progress(&mut self, p: &Progress) {
        self.evaluations = self.evaluations.max(p.nfe);
    }
    fn cancelled(&self) -> bool {
        self.cancel_after.is_some_and(|n| self.evaluations >= n)
    }
}

#[test]
fn reconstruction_counts_both_directions_and_cancel_stops() {
    let model = tiny_model(7);
    let x = picture(32, 32);
    let mut counter = Counter {
        evaluations: 0,
        cancel_after: None,
    };
    let (out, up, down) = tasks::reconstruct(&model, &x, 2, 0, &whole(), &mut counter).unwrap();
    assert_eq!((up.nfe(), down.nfe(), out.nfe), (2, 2, 4));
    assert_eq!(counter.evaluations, 4);
    let mut cancelling = Counter {
        evaluations: 0,
        cancel_after: Some(1),
    };
    let err = tasks::reconstruct(&model, &x, 2, 0, &whole(), &mut cancelling).unwrap_err();
    assert!(matches!(err, EngineError::Cancelled));
    assert_eq!(cancelling.evaluations, 1, "stops at the next step");
}

#[test]
fn longer_ladders_reconstruct_a_photo_more_faithfully() {
    // The shipped model follows the ODE step by step: more hops, a closer round trip (16 NFE
    // about 4 dB over 2 on this photo); from 32 NFE the ladders start at the clean photo and
    // retrace each other, and it comes back.
    let model = weights::default_model(&Device::flex()).unwrap();
    let img = image::open(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/samples/life.jpg"
    ))
    .unwrap()
    .resize_to_fill(96, 96, image::imageops::FilterType::Triangle);
    let x = bcm_studio::photo::planar_from_image(&img);
    let psnr = |nfe: usize| {
        let (out, up, down) = tasks::reconstruct(&model, &x, nfe, 0, &whole(), &mut ()).unwrap();
        assert_eq!(up.nfe(), nfe);
        assert!((nfe - 1..=nfe + 1).contains(&down.nfe()));
        let mse: f64 = out
            .image
            .data
            .iter()
            .zip(&x.data)
            .map(|(a, b)| f64::from(a - b).powi(2) / 4.0)
            .sum::<f64>()
            / x.data.len() as f64;
        -10.0 * mse.log10()
    };
    let (short, long, exact) = (psnr(2), psnr(16), psnr(32));
    assert!(
        long > short + 2.5 && exact > 38.0,
        "NFE 2: {short:.2} dB, NFE 16: {long:.2} dB, NFE 32: {exact:.2} dB"
    );
}
