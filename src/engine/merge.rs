//! Checkpoint merging. A blend gives every weight (1 − α)·a + α·b: two fine-tunes of one
//! parent that trade one strength for another (say reconstruction against restoration) can be
//! blended at any point between them without training again. An added difference gives
//! a + α·(b − c): what a fine-tune (b) learned on top of its parent (c), carried over to another
//! model of that preset (a).

use super::error::{EngineError, Result};
use super::model::Bcm;
use super::train::ema;
use super::weights::ModelCard;

/// A model with the card it was read with.
pub struct CardedModel {
    pub model: Bcm,
    pub card: ModelCard,
}

/// Blend `a` and `b` at `alpha` (0 gives `a`, 1 gives `b`). Both must share one architecture.
/// The result takes the ladders of the model weighted more (of `a` at 0.5): the blend is
/// closer to it. Its card is written as f32 whatever the inputs were stored as.
pub fn merge(a: CardedModel, b: &CardedModel, alpha: f32) -> Result<CardedModel> {
    check_weight(alpha)?;
    check_architecture(&a.card, &b.card)?;
    let dominant = if alpha > 0.5 { &b.card } else { &a.card };
    let card = ModelCard {
        name: format!(
            "{:.2} × {} + {:.2} × {}",
            1.0 - alpha,
            a.card.name,
            alpha,
            b.card.name
        ),
        half_precision: false,
        steps: a.card.steps.max(b.card.steps),
        notes: format!(
            "Weights blended as {:.3} × '{}' ({} steps) + {:.3} × '{}' ({} steps).",
            1.0 - alpha,
            a.card.name,
            a.card.steps,
            alpha,
            b.card.name,
            b.card.steps
        ),
        ladders: dominant.ladders,
        ladder_floor: dominant.ladder_floor,
        // A blend was not trained by any one run.
        training: None,
        ..a.card.clone()
    };
    let mut model = a.model;
    // `update` moves b's values to a's device.
    model.net = ema::update(model.net, &b.model.net, 1.0 - f64::from(alpha));
    model.info.name = card.name.clone();
    model.info.ladders = card.ladder_style()?;
    model.info.trained = a.card.steps > 0 || b.card.steps > 0;
    Ok(CardedModel { model, card })
}

/// Add what `b` learned over `c` to `a`: every weight a + α·(b − c), with α between 0 (which
/// gives `a`) and 1. All three must share one architecture. The result keeps `a`'s ladders: it
/// is `a` moved by the difference.
pub fn add_difference(
    a: CardedModel,
    b: &CardedModel,
    c: &CardedModel,
    alpha: f32,
) -> Result<CardedModel> {
    check_weight(alpha)?;
    check_architecture(&a.card, &b.card)?;
    check_architecture(&a.card, &c.card)?;
    let card = ModelCard {
        name: format!(
            "{} + {alpha:.2} × ({} − {})",
            a.card.name, b.card.name, c.card.name
        ),
        half_precision: false,
        steps: a.card.steps.max(b.card.steps),
        notes: format!(
            "Weights of '{}' ({} steps) + {alpha:.3} × ('{}' ({} steps) − '{}' ({} steps)).",
            a.card.name, a.card.steps, b.card.name, b.card.steps, c.card.name, c.card.steps
        ),
        training: None,
        ..a.card.clone()
    };
    let mut model = a.model;
    // Two blends make the three-way sum: a/(1+α) + α/(1+α)·b, then (1+α)·that − α·c.
    let alpha = f64::from(alpha);
    model.net = ema::update(model.net, &b.model.net, 1.0 / (1.0 + alpha));
    model.net = ema::update(model.net, &c.model.net, 1.0 + alpha);
    model.info.name = card.name.clone();
    model.info.trained = card.steps > 0;
    Ok(CardedModel { model, card })
}

fn check_weight(alpha: f32) -> Result<()> {
    if (0.0..=1.0).contains(&alpha) {
        Ok(())
    } else {
        Err(EngineError::Parameter(format!(
            "the merge weight must be between 0 and 1, got {alpha}"
        )))
    }
}

fn check_architecture(a: &ModelCard, b: &ModelCard) -> Result<()> {
    if a.config == b.config {
        Ok(())
    } else {
        Err(EngineError::Config(format!(
            "'{}' and '{}' have different architectures; only models of one preset can be merged",
            a.name, b.name
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::network::UNetConfig;
    use crate::engine::plan::Ladders;
    use burn::module::{Module, ModuleVisitor, Param};
    use burn::tensor::{Device, Tensor};

    fn carded(seed: u64, ladders: Ladders, steps: u64) -> CardedModel {
        let device = Device::flex();
        let config = UNetConfig::tiny();
        let model = Bcm::random(config.clone(), seed, &device).unwrap();
        let mut card = ModelCard::new(&format!("m{seed}"), config);
        card.ladders = ladders;
        card.steps = steps;
        CardedModel { model, card }
    }

    struct Flatten(Vec<f32>);
    impl ModuleVisitor for Flatten {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let v = param.val().into_data().try_to_vec::<f32>().unwrap();
            self.0.extend(v);
        }
    }

    fn weights(m: &Bcm) -> Vec<f32> {
        let mut f = Flatten(Vec::new());
        m.net.visit(&mut f);
        f.0
    }

    #[test]
    fn every_weight_is_the_weighted_sum() {
        let (a, b) = (carded(1, Ladders::Heun, 10), carded(2, Ladders::Plain, 30));
        let (wa, wb) = (weights(&a.model), weights(&b.model));
        assert!(wa.iter().zip(&wb).any(|(x, y)| (x - y).abs() > 1e-3));
        let merged = merge(a, &b, 0.25).unwrap();
        let wm = weights(&merged.model);
        assert_eq!(wm.len(), wa.len());
        for ((m, x), y) in wm.iter().zip(&wa).zip(&wb) {
            assert!((m - (0.75 * x + 0.25 * y)).abs() < 1e-5, "{m} vs {x}, {y}");
        }
        // Closer to a, so a's ladders; the steps behind it are the longer run's.
        assert_eq!(merged.card.ladders, Ladders::Heun);
        assert_eq!(merged.card.steps, 30);
        assert!(merged.card.notes.contains("0.750 × 'm1'"));
    }

    #[test]
    fn an_added_difference_moves_a_by_what_b_has_over_c() {
        let (a, b, c) = (
            carded(1, Ladders::Plain, 10),
            carded(2, Ladders::Heun, 30),
            carded(3, Ladders::Heun, 20),
        );
        let (wa, wb, wc) = (weights(&a.model), weights(&b.model), weights(&c.model));
        let merged = add_difference(a, &b, &c, 0.7).unwrap();
        let wm = weights(&merged.model);
        assert_eq!(wm.len(), wa.len());
        for (((m, x), y), z) in wm.iter().zip(&wa).zip(&wb).zip(&wc) {
            let want = x + 0.7 * (y - z);
            assert!((m - want).abs() < 1e-4, "{m} vs {want}");
        }
        // Still a, moved: its ladders, whatever b and c take.
        assert_eq!(merged.card.ladders, Ladders::Plain);
        assert!(
            merged.card.notes.contains("0.700 × ('m2'"),
            "{}",
            merged.card.notes
        );
        // Nothing added at 0, and the difference of a model with itself is nothing.
        let fresh = || {
            let a = carded(1, Ladders::Plain, 10);
            let w = weights(&a.model);
            (a, w)
        };
        let (a, wa) = fresh();
        assert_eq!(weights(&add_difference(a, &b, &c, 0.0).unwrap().model), wa);
        let (a, wa) = fresh();
        let same = add_difference(a, &b, &b, 1.0).unwrap();
        for (m, x) in weights(&same.model).iter().zip(&wa) {
            assert!((m - x).abs() < 1e-5, "{m} vs {x}");
        }
    }

    #[test]
    fn the_ends_give_back_the_inputs() {
        let b = carded(2, Ladders::Plain, 30);
        let wb = weights(&b.model);
        let merged = merge(carded(1, Ladders::Heun, 10), &b, 1.0).unwrap();
        assert_eq!(weights(&merged.model), wb);
        assert_eq!(merged.card.ladders, Ladders::Plain);
    }

    #[test]
    fn bad_weight_or_architecture_is_refused() {
        let b = carded(2, Ladders::Plain, 30);
        for alpha in [-0.1, 1.5, f32::NAN] {
            let err = merge(carded(1, Ladders::Heun, 10), &b, alpha)
                .err()
                .unwrap();
            assert!(matches!(err, EngineError::Parameter(_)), "{err}");
        }
        let device = Device::flex();
        let photo = UNetConfig::photo();
        let other = CardedModel {
            model: Bcm::random(photo.clone(), 3, &device).unwrap(),
            card: ModelCard::new("photo", photo),
        };
        let err = merge(carded(1, Ladders::Heun, 10), &other, 0.5)
            .err()
            .unwrap();
        assert!(err.to_string().contains("different architectures"), "{err}");
        let a = || carded(1, Ladders::Heun, 10);
        let err = add_difference(a(), &b, &other, 0.5).err().unwrap();
        assert!(err.to_string().contains("different architectures"), "{err}");
        let err = add_difference(a(), &b, &carded(3, Ladders::Plain, 0), 1.01)
            .err()
            .unwrap();
        assert!(matches!(err, EngineError::Parameter(_)), "{err}");
    }
}
