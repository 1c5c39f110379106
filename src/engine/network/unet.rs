//! The U-Net F(x, c_noise(t), c_noise(u)) of a BCM.

use burn::module::{Module, Param};
use burn::nn::conv::Conv2d;
use burn::tensor::activation::silu;
use burn::tensor::{Device, Tensor};

use super::blocks::{BlockSpec, ResBlock, conv3, conv3_down, conv3_zero};
use super::config::UNetConfig;
use super::cpu::{self, Input, Padded};
use super::dropout::DropoutMasks;
use super::embedding::TimeEmbedding;
use super::norm::GroupNorm;

#[derive(Module, Debug)]
pub struct UNet {
    pub time: TimeEmbedding,
    pub input: Conv2d,
    pub encoder: Vec<ResBlock>,
    pub down: Vec<Conv2d>,
    pub middle: Vec<ResBlock>,
    pub decoder: Vec<ResBlock>,
    pub up: Vec<Conv2d>,
    pub out_norm: GroupNorm,
    pub output: Conv2d,
    pub levels: usize,
    pub blocks: usize,
    pub stem: usize,
}

impl UNetConfig {
    /// Build the network with fresh weights (burn's default initialisers; the last
    /// convolution of every residual branch and the output convolution start at zero).
    pub fn init(&self, device: &Device) -> UNet {
        let spec = BlockSpec {
            groups: self.norm_groups,
            norm: self.norm,
            emb: self.emb_channels(),
            head_channels: self.head_channels,
        };
        let drop = |l: usize| {
            if l >= self.dropout_from_level {
                self.dropout
            } else {
                0.0
            }
        };
        let mut encoder = Vec::new();
        let mut down = Vec::new();
        let mut skips = vec![self.channels];
        let mut ch = self.channels;
        for l in 0..self.levels() {
            let out = self.level_channels(l);
            let attn = self.attention_levels.contains(&l);
            for _ in 0..self.num_res_blocks {
                encoder.push(ResBlock::new(ch, out, attn, drop(l), spec, device));
                ch = out;
                skips.push(ch);
            }
            if l + 1 < self.levels() {
                down.push(conv3_down(ch, device));
                skips.push(ch);
            }
        }
        let middle = vec![
            ResBlock::new(ch, ch, self.middle_attention, self.dropout, spec, device),
            ResBlock::new(ch, ch, false, self.dropout, spec, device),
        ];
        let mut decoder = Vec::new();
        let mut up = Vec::new();
        for l in (0..self.levels()).rev() {
            let out = self.level_channels(l);
            let attn = self.attention_levels.contains(&l);
            for _ in 0..=self.num_res_blocks {
                let skip = skips.pop().unwrap_or_default();
                decoder.push(ResBlock::new(ch + skip, out, attn, drop(l), spec, device));
                ch = out;
            }
            if l > 0 {
                up.push(conv3(ch, ch, device));
            }
        }
        UNet {
            time: TimeEmbedding::new(
                self.channels,
                self.emb_channels(),
                self.bidirectional,
                device,
            ),
            input: conv3(self.input_channels(), self.channels, device),
            encoder,
            down,
            middle,
            decoder,
            up,
            out_norm: GroupNorm::new(ch, self.norm_groups, self.norm, device),
            output: conv3_zero(ch, self.stem_channels(), device),
            levels: self.levels(),
            blocks: self.num_res_blocks,
            stem: self.stem.max(1),
        }
    }
}

impl UNet {
    /// The same network reading `extra` more input channels (before space-to-depth) after the
    /// image, their weights at zero: it computes exactly what it did, whatever they hold, and
    /// is where a conditioned model's fine-tuning starts.
    pub fn with_extra_inputs(mut self, extra: usize) -> Self {
        if extra == 0 {
            return self;
        }
        let weight = self.input.weight.val();
        let [out, _, kh, kw] = weight.dims();
        let zeros = Tensor::<4>::zeros(
            [out, extra * self.stem * self.stem, kh, kw],
            &weight.device(),
        );
        // Detached: a parameter must be a leaf of the autodiff graph.
        let widened = Tensor::cat(vec![weight, zeros], 1).detach();
        self.input.weight = Param::from_tensor(widened);
        self
    }

    /// Whether the network conditions on the end time u (false: a consistency model).
    pub fn is_bidirectional(&self) -> bool {
        self.time.end.is_some()
    }

    /// `x`: scaled input c_in(t)·x, [B, C, H, W] with H and W multiples of the alignment.
    /// `c_t`, `c_u`: c_noise of the start and end times, [B]. `condition`: the extra input
    /// channels of a conditioned network ([B, K, H, W], unscaled), `None` for a plain one.
    pub fn forward(
        &self,
        x: Tensor<4>,
        c_t: Tensor<1>,
        c_u: Tensor<1>,
        condition: Option<Tensor<4>>,
        masks: Option<&DropoutMasks>,
    ) -> Tensor<4> {
        let emb = self.time.forward(c_t, c_u);
        let x = match condition {
            Some(c) => Tensor::cat(vec![x, c], 1),
            None => x,
        };
        let mut h = conv3_plain(&self.input, space_to_depth(x, self.stem));
        let mut skips = vec![h.clone()];
        let mut enc = self.encoder.iter();
        let mut down = self.down.iter();
        for l in 0..self.levels {
            for block in enc.by_ref().take(self.blocks) {
                h = block.forward(h, &emb, masks);
                skips.push(h.clone());
            }
            if l + 1 < self.levels
                && let Some(conv) = down.next()
            {
                h = conv3_plain(conv, h);
                skips.push(h.clone());
            }
        }
        for block in &self.middle {
            h = block.forward(h, &emb, masks);
        }
        let mut dec = self.decoder.iter();
        let mut up = self.up.iter();
        for l in (0..self.levels).rev() {
            for block in dec.by_ref().take(self.blocks + 1) {
                h = match skips.pop() {
                    Some(skip) => block.forward_cat(h, skip, &emb, masks),
                    None => block.forward(h, &emb, masks),
                };
            }
            if l > 0
                && let Some(conv) = up.next()
            {
                // Mix at the low resolution, then repeat pixels: a quarter of the cost of
                // convolving after upsampling, where most of a U-Net's time goes.
                h = upsample2(conv3_plain(conv, h));
            }
        }
        let out = if cpu::applies(&h) && self.out_norm.local && cpu::is_plain_conv3(&self.output) {
            cpu::conv3x3(
                Padded::norm_silu(&Input::one(h), &self.out_norm),
                &self.output,
                None,
                None,
            )
        } else {
            self.output.forward(silu(self.out_norm.forward(h)))
        };
        depth_to_space(out, self.stem)
    }
}

/// A 3×3 convolution of `x` as it is, on the CPU kernels where they apply.
fn conv3_plain(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    if cpu::applies(&x) && cpu::conv3_stride(conv).is_some() {
        cpu::conv3x3(Padded::plain(x), conv, None, None)
    } else {
        conv.forward(x)
    }
}

/// [B, C, H, W] → [B, C·s², H/s, W/s] (pixel unshuffle).
fn space_to_depth(x: Tensor<4>, s: usize) -> Tensor<4> {
    if s == 1 {
        return x;
    }
    if cpu::applies(&x) {
        return cpu::space_to_depth(x, s);
    }
    let [b, c, h, w] = x.dims();
    x.reshape([b, c, h / s, s, w / s, s])
        .permute([0, 1, 3, 5, 2, 4])
        .reshape([b, c * s * s, h / s, w / s])
}

/// Inverse of [`space_to_depth`] (pixel shuffle).
fn depth_to_space(x: Tensor<4>, s: usize) -> Tensor<4> {
    if s == 1 {
        return x;
    }
    if cpu::applies(&x) {
        return cpu::depth_to_space(x, s);
    }
    let [b, cs, h, w] = x.dims();
    let c = cs / (s * s);
    x.reshape([b, c, s, s, h, w])
        .permute([0, 1, 4, 2, 5, 3])
        .reshape([b, c, h * s, w * s])
}

/// Nearest-neighbour 2× upsampling.
fn upsample2(x: Tensor<4>) -> Tensor<4> {
    if cpu::applies(&x) {
        return cpu::upsample2(x);
    }
    let [b, c, h, w] = x.dims();
    x.reshape([b, c, h, 1, w, 1])
        .expand([b, c, h, 2, w, 2])
        .reshape([b, c, 2 * h, 2 * w])
}
