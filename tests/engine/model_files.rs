//! Weights: round trips through files, bad files, and the embedded model.

use super::*;

#[test]
fn weights_roundtrip_and_bad_files_give_errors() {
    let model = tiny_model(11);
    let dir = std::env::temp_dir().join(format!("bcm-weights-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("m.safetensors");
    let card = ModelCard::new("tiny-test", model.config.clone());
    weights::save(&model, &card, &path).unwrap();
    let loaded = weights::load(&path, &Device::flex()).unwrap();
    let x = noise_image(16, 16, 2.0, 1);
    assert_eq!(
        eval(&model, &x, 2.0, 0.1, &whole()).data,
        eval(&loaded, &x, 2.0, 0.1, &whole()).data
    );

    assert_eq!(loaded.info.ladders.kind, Ladders::Heun);

    // f16 storage: close, not equal. The card's ladder kind comes back with the model.
    let half = dir.join("h.safetensors");
    weights::save(
        &model,
        &ModelCard {
            half_precision: true,
            ladders: Ladders::Plain,
            ..card.clone()
        },
        &half,
    )
    .unwrap();
    let loaded = weights::load(&half, &Device::flex()).unwrap();
    assert_eq!(loaded.info.ladders.kind, Ladders::Plain);
    let json = std::fs::read_to_string(dir.join("h.json")).unwrap();
    assert!(json.contains(r#""ladders": "plain""#), "{json}");
    // Cards written before the field existed are denoisers' (Heun ladders).
    let mut old: serde_json::Value = serde_json::from_str(&json).unwrap();
    old.as_object_mut().unwrap().remove("ladders");
    old.as_object_mut().unwrap().remove("ladder_floor");
    let parsed = weights::parse_card(old.to_string().as_bytes(), "old card").unwrap();
    assert_eq!(parsed.ladders, Ladders::Heun);
    // ... and their ladders start from the reference's 0.07; a card may name a lower floor,
    // which comes back with the model, but not one out of range.
    assert_eq!(parsed.ladder_floor, 0.07);
    let floored = dir.join("f.safetensors");
    let low = ModelCard {
        ladders: Ladders::Plain,
        ladder_floor: 0.035,
        ..card.clone()
    };
    weights::save(&model, &low, &floored).unwrap();
    let loaded_low = weights::load(&floored, &Device::flex()).unwrap();
    assert_eq!(loaded_low.info.ladders.floor, 0.035);
    let mut bad: serde_json::Value = serde_json::to_value(&low).unwrap();
    bad["ladder_floor"] = serde_json::json!(0.5);
    let err = weights::parse_card(bad.to_string().as_bytes(), "bad floor").unwrap_err();
    assert!(err.to_string().contains("ladder floor"), "{err}");
    // Every field of the architecture is checked before it is used: no division by a zero
    // head size, no network built at a size that would exhaust memory.
    for (field, value, named) in [
        ("head_channels", serde_json::json!(0), "head_channels"),
        ("norm_groups", serde_json::json!(0), "norm_groups"),
        ("channels", serde_json::json!(1u64 << 40), "channels"),
        (
            "num_res_blocks",
            serde_json::json!(100_000),
            "num_res_blocks",
        ),
    ] {
        let mut bad: serde_json::Value = serde_json::to_value(&card).unwrap();
        bad["config"]["middle_attention"] = serde_json::json!(true);
        bad["config"][field] = value;
        let err = weights::parse_card(bad.to_string().as_bytes(), "bad card").unwrap_err();
        assert!(matches!(err, EngineError::Config(_)), "{err}");
        assert!(err.to_string().contains(named), "{field}: {err}");
    }
    assert!(
        max_abs_diff(
            &eval(&model, &x, 2.0, 0.1, &whole()),
            &eval(&loaded, &x, 2.0, 0.1, &whole())
        ) < 5e-2
    );
    assert!(
        std::fs::metadata(&half).unwrap().len() < std::fs::metadata(&path).unwrap().len() * 6 / 10
    );

    // New weights beside the card of older ones (a save cut between its two files): refused.
    let pair = dir.join("pair.safetensors");
    weights::save(&model, &card, &pair).unwrap();
    let other_weights = Bcm::random(model.config.clone(), 99, &Device::flex()).unwrap();
    std::fs::write(
        &pair,
        weights::weights_to_bytes(&other_weights, false).unwrap(),
    )
    .unwrap();
    let err = weights::load(&pair, &Device::flex()).unwrap_err();
    assert!(err.to_string().contains("interrupted"), "{err}");
    weights::save(&other_weights, &card, &pair).unwrap();
    weights::load(&pair, &Device::flex()).expect("a pair saved together loads");

    // A config that does not match the tensors.
    let other = ModelCard::new(
        "wrong",
        UNetConfig {
            channels: 32,
            norm_groups: 8,
            ..UNetConfig::tiny()
        },
    );
    std::fs::write(dir.join("m.json"), serde_json::to_vec(&other).unwrap()).unwrap();
    let err = weights::load(&path, &Device::flex()).unwrap_err();
    assert!(matches!(err, EngineError::Weights(_)), "{err}");
    // One short line that counts the mismatches and names a few, not a list of them all.
    let text = err.to_string();
    assert!(
        !text.contains('\n') && text.len() < 600,
        "{} chars: {text}",
        text.len()
    );
    assert!(text.contains("tensors do not match (first: "), "{text}");
    // A truncated weights file.
    std::fs::write(dir.join("m.json"), serde_json::to_vec(&card).unwrap()).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    assert!(matches!(
        weights::load(&path, &Device::flex()),
        Err(EngineError::Weights(_))
    ));
    // Missing files and a broken card.
    assert!(matches!(
        weights::load(&dir.join("none.safetensors"), &Device::flex()),
        Err(EngineError::Io { .. })
    ));
    std::fs::write(dir.join("m.json"), b"{not json").unwrap();
    assert!(matches!(
        weights::load(&path, &Device::flex()),
        Err(EngineError::Config(_))
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn embedded_model_loads() {
    let model = weights::default_model(&Device::flex()).unwrap();
    let x = picture(32, 32);
    let out = eval(&model, &x, 1.0, 0.002, &whole());
    assert!(out.data.iter().all(|v| v.is_finite()));
}
