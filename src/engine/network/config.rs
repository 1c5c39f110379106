//! U-Net configuration, named presets, and the figures derived from a configuration
//! (parameter count, receptive field, spatial alignment).

use burn::config::Config;

/// How activations are normalised inside the network.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum NormKind {
    /// GroupNorm over channel groups *and* the whole image, as in the reference ADM U-Net.
    /// Every output pixel then depends on the whole image, so tiled evaluation is not exact.
    Spatial,
    /// GroupNorm statistics per pixel (over the channels of each group only). Keeps the network
    /// local, so it applies to any image size and tiles exactly.
    Local,
}

/// Architecture of the BCM U-Net F(c_in·x, c_noise(t), c_noise(u)).
#[derive(Config, Debug, PartialEq)]
pub struct UNetConfig {
    /// Base channel count C; level l has C·channel_mult[l] channels.
    pub channels: usize,
    /// Channel multiplier per resolution level (one level per entry).
    pub channel_mult: Vec<usize>,
    /// Residual blocks per encoder level (the decoder has one more, as in ADM).
    pub num_res_blocks: usize,
    /// Levels (indices into `channel_mult`) that get self-attention after each block.
    /// Empty means fully convolutional.
    #[config(default = "Vec::new()")]
    pub attention_levels: Vec<usize>,
    /// Whether the middle block has self-attention.
    #[config(default = false)]
    pub middle_attention: bool,
    /// Channels per attention head.
    #[config(default = 32)]
    pub head_channels: usize,
    /// Number of GroupNorm groups.
    pub norm_groups: usize,
    /// Normalisation statistics: per pixel (local) or over the image (spatial).
    #[config(default = "NormKind::Local")]
    pub norm: NormKind,
    /// Dropout probability used at levels >= `dropout_from_level` and in the middle block.
    #[config(default = 0.0)]
    pub dropout: f64,
    /// First level where dropout applies (the reference uses the low-resolution levels only).
    #[config(default = 1)]
    pub dropout_from_level: usize,
    /// Time embedding width multiplier (embedding has C·emb_mult features).
    #[config(default = 4)]
    pub emb_mult: usize,
    /// Image channels in and out.
    #[config(default = 3)]
    pub image_channels: usize,
    /// Space-to-depth factor of the stem: the U-Net runs at 1/stem of the image resolution on
    /// stem² times the channels (pixel unshuffle in, pixel shuffle out). 1 = full resolution.
    #[config(default = 1)]
    pub stem: usize,
    /// A BCM conditions on both times t and u. `false` gives a plain consistency model (CM)
    /// conditioned on t only, with the CM boundary scalings: the starting point of the
    /// CM → BCM fine-tuning route.
    #[config(default = true)]
    pub bidirectional: bool,
    /// Channels of conditioning read beside the image (0: none). An inpainting model reads
    /// the photo with its hole blanked and the hole's mask (4 channels); they enter the first
    /// convolution only, so a model without them is the same model with those weights at zero.
    /// Optional so that cards written before there was a choice read as none.
    pub condition_channels: Option<usize>,
}

impl UNetConfig {
    /// Small network for tests: trains in seconds, fully convolutional.
    pub fn tiny() -> Self {
        UNetConfig::new(16, vec![1, 2], 1, 4)
    }

    /// The editor's default model: fully convolutional so it applies at native resolution.
    /// Sized from measurements on a 2-core CPU (see README, "Model").
    pub fn photo() -> Self {
        UNetConfig::new(32, vec![1, 2, 2], 1, 8).with_stem(2)
    }

    /// Look a preset up by name.
    pub fn preset(name: &str) -> Option<Self> {
        match name {
            "tiny" => Some(Self::tiny()),
            "photo" => Some(Self::photo()),
            _ => None,
        }
    }

    /// Names accepted by [`UNetConfig::preset`].
    pub const PRESETS: [&'static str; 2] = ["tiny", "photo"];

    /// Number of resolution levels.
    pub fn levels(&self) -> usize {
        self.channel_mult.len()
    }

    /// Image sides must be multiples of this (the total downsampling factor).
    pub fn alignment(&self) -> usize {
        self.stem.max(1) << (self.levels().saturating_sub(1))
    }

    /// Channels entering and leaving the U-Net after space-to-depth.
    pub fn stem_channels(&self) -> usize {
        self.image_channels * self.stem.max(1) * self.stem.max(1)
    }

    /// Channels entering the first convolution after space-to-depth: the image's and the
    /// conditioning's.
    pub fn input_channels(&self) -> usize {
        (self.image_channels + self.conditioning()) * self.stem.max(1) * self.stem.max(1)
    }

    /// Channels of conditioning the network reads beside the image (0: a plain model).
    pub fn conditioning(&self) -> usize {
        self.condition_channels.unwrap_or(0)
    }

    /// Whether every output pixel depends only on a bounded neighbourhood of the input.
    pub fn is_local(&self) -> bool {
        self.norm == NormKind::Local && self.attention_levels.is_empty() && !self.middle_attention
    }

    /// Embedding width.
    pub fn emb_channels(&self) -> usize {
        self.channels * self.emb_mult
    }

    /// Channel count of level `l`.
    pub fn level_channels(&self, l: usize) -> usize {
        self.channels * self.channel_mult[l]
    }

    /// Check the configuration before building a network from it.
    pub fn validate(&self) -> Result<(), String> {
        if self.channels == 0 || self.channel_mult.is_empty() || self.num_res_blocks == 0 {
            return Err("channels, channel_mult and num_res_blocks must be non-empty".into());
        }
        if self.channel_mult.contains(&0) || self.image_channels == 0 || self.emb_mult == 0 {
            return Err("channel multipliers must be positive".into());
        }
        if self.stem == 0 || self.stem > 8 {
            return Err("stem must be 1-8".into());
        }
        if self.norm_groups == 0 {
            return Err("norm_groups must be positive".into());
        }
        let attention = self.middle_attention || !self.attention_levels.is_empty();
        if attention && self.head_channels == 0 {
            return Err("head_channels must be positive when the network has attention".into());
        }
        // A card read from a file can ask for anything: sizes far beyond any model of this
        // kind would only exhaust memory while the network is built.
        let limits = [
            ("channels", self.channels, 2048),
            ("levels (channel_mult entries)", self.channel_mult.len(), 8),
            ("num_res_blocks", self.num_res_blocks, 16),
            ("emb_mult", self.emb_mult, 16),
            ("image_channels", self.image_channels, 16),
            ("condition_channels", self.conditioning(), 16),
            (
                "the largest channel multiplier",
                self.channel_mult.iter().copied().max().unwrap_or(0),
                32,
            ),
        ];
        for (name, value, most) in limits {
            if value > most {
                return Err(format!("{name} is {value}; at most {most} is supported"));
            }
        }
        // Within those bounds the layers could still multiply up to more weights than memory.
        const MAX_PARAMS: usize = 500_000_000;
        if self.param_count() > MAX_PARAMS {
            return Err(format!(
                "{:.0} M parameters; at most {} M are supported",
                self.param_count() as f64 / 1e6,
                MAX_PARAMS / 1_000_000
            ));
        }
        if !self.channels.is_multiple_of(2) {
            return Err("channels must be even (sinusoidal embedding)".into());
        }
        for l in 0..self.levels() {
            if !self.level_channels(l).is_multiple_of(self.norm_groups) {
                return Err(format!(
                    "level {l}: {} channels not divisible by {} norm groups",
                    self.level_channels(l),
                    self.norm_groups
                ));
            }
        }
        if !self.channels.is_multiple_of(self.norm_groups) {
            return Err("base channels not divisible by norm groups".into());
        }
        let attn_channels = self
            .attention_levels
            .iter()
            .map(|&l| self.channel_mult.get(l).map(|m| m * self.channels))
            .chain(
                self.middle_attention
                    .then(|| self.channel_mult.last().map(|m| m * self.channels)),
            );
        for ch in attn_channels {
            match ch {
                Some(ch) if ch.is_multiple_of(self.head_channels) => {}
                Some(ch) => {
                    return Err(format!(
                        "{ch} attention channels not divisible by head size"
                    ));
                }
                None => return Err("attention level out of range".into()),
            }
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err("dropout must be in [0, 1)".into());
        }
        Ok(())
    }

    /// Receptive-field radius in input pixels: an output pixel depends only on input pixels at
    /// most this far away (Chebyshev distance). Only meaningful when [`Self::is_local`].
    ///
    /// Walks the layer sequence: a 3×3 convolution at scale s widens the radius by s; a stride-2
    /// 3×3 convolution reading scale s widens it by s; nearest upsampling to scale s by s.
    pub fn receptive_radius(&self) -> usize {
        let levels = self.levels();
        let stem = self.stem.max(1);
        let scale = |l: usize| stem << l;
        // Space-to-depth groups stem×stem pixels: up to stem − 1 pixels of offset each way.
        let mut r = 2 * (stem - 1) + stem; // grouping in and out, input convolution
        for l in 0..levels {
            r += self.num_res_blocks * 2 * scale(l);
            if l + 1 < levels {
                r += scale(l) + scale(l); // stride-2 conv, plus the grid offset it introduces
            }
        }
        r += 4 * scale(levels - 1); // middle: two residual blocks
        for l in (0..levels).rev() {
            r += (self.num_res_blocks + 1) * 2 * scale(l);
            if l > 0 {
                r += scale(l) + scale(l - 1); // a 3x3 conv at scale l, then nearest upsampling
            }
        }
        r + stem // output convolution
    }

    /// Parameter count, computed from the layer shapes.
    pub fn param_count(&self) -> usize {
        let conv = |cin: usize, cout: usize, k: usize| cin * cout * k * k + cout;
        let lin = |cin: usize, cout: usize| cin * cout + cout;
        let norm = |c: usize| 2 * c;
        let emb = self.emb_channels();
        let res = |cin: usize, cout: usize| {
            norm(cin)
                + conv(cin, cout, 3)
                + lin(emb, cout)
                + norm(cout)
                + conv(cout, cout, 3)
                + if cin != cout { conv(cin, cout, 1) } else { 0 }
        };
        let attn = |c: usize| norm(c) + conv(c, 3 * c, 1) + conv(c, c, 1);
        let mlp = lin(self.channels, emb) + lin(emb, emb);
        let mut n = if self.bidirectional {
            2 * mlp + 2 * emb * emb
        } else {
            mlp
        };
        n += conv(self.input_channels(), self.channels, 3);
        let mut skips = vec![self.channels];
        let mut ch = self.channels;
        for l in 0..self.levels() {
            let out = self.level_channels(l);
            for _ in 0..self.num_res_blocks {
                n += res(ch, out)
                    + if self.attention_levels.contains(&l) {
                        attn(out)
                    } else {
                        0
                    };
                ch = out;
                skips.push(ch);
            }
            if l + 1 < self.levels() {
                n += conv(ch, ch, 3);
                skips.push(ch);
            }
        }
        n += 2 * res(ch, ch) + if self.middle_attention { attn(ch) } else { 0 };
        for l in (0..self.levels()).rev() {
            let out = self.level_channels(l);
            for _ in 0..=self.num_res_blocks {
                let skip = skips.pop().unwrap_or(0);
                n += res(ch + skip, out)
                    + if self.attention_levels.contains(&l) {
                        attn(out)
                    } else {
                        0
                    };
                ch = out;
            }
            if l > 0 {
                n += conv(ch, ch, 3);
            }
        }
        n + norm(ch) + conv(ch, self.stem_channels(), 3)
    }
}
