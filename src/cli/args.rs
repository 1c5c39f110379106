//! Command-line arguments.

use std::path::PathBuf;

use bcm_studio::engine::tasks::RestoreParams;
use clap::{Args, Parser, Subcommand};

use super::inpaint_args::InpaintArgs;

/// bcm-studio: edit photos with a Bidirectional Consistency Model. Without a subcommand the
/// editor opens.
#[derive(Debug, Parser)]
#[command(name = "bcm-studio", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Photo to open in the editor (a .safetensors model file is loaded as the model instead).
    pub open: Option<PathBuf>,
}

/// Options shared by every command that runs the model.
#[derive(Debug, Clone, Args)]
pub struct EngineArgs {
    /// Where the network runs: auto (GPU through wgpu if there is one, else CPU), cpu, wgpu.
    #[arg(long, global = true, default_value = "auto")]
    pub device: String,
    /// Model weights (.safetensors with a .json card beside it); default: the embedded model.
    #[arg(long, global = true)]
    pub model: Option<PathBuf>,
    /// Seed for every random draw (noise, injections).
    #[arg(long, global = true, default_value_t = 0)]
    pub seed: u64,
    /// Side of the tiles large images are split into (pixels kept per tile).
    #[arg(long, global = true, default_value_t = bcm_studio::engine::Tiling::default().tile)]
    pub tile: usize,
    /// Allow writing over an input file.
    #[arg(long, global = true)]
    pub overwrite: bool,
    /// JPEG quality for .jpg outputs.
    #[arg(long, global = true, default_value_t = 92)]
    pub quality: u8,
    /// Largest photo accepted, in megapixels; default: what the free memory allows (64 bytes
    /// a pixel while it is worked on, 2 GB kept aside).
    #[arg(long, global = true)]
    pub max_megapixels: Option<f64>,
}

// Parsed once per process, so the training variant's size costs nothing worth boxing it for.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate an image from pure noise.
    Generate {
        #[arg(long, default_value_t = 256)]
        width: usize,
        #[arg(long, default_value_t = 256)]
        height: usize,
        /// Network evaluations (1-64): hops evenly spaced in log σ, of the kind the model's card
        /// names; for a model with Heun ladders 1-4 are the presets (one-step, two-step,
        /// zigzag, mixed).
        #[arg(long, default_value_t = 2)]
        nfe: usize,
        /// A custom schedule instead, e.g. "80 > 2.4 > 0.002" ('+s' adds noise up to s).
        #[arg(long)]
        schedule: Option<String>,
        /// Start from a latent written by `invert` instead of fresh noise.
        #[arg(long)]
        from: Option<PathBuf>,
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Invert a photo to a noise level; writes the latent (.safetensors) and optionally a
    /// preview of it.
    Invert {
        input: PathBuf,
        /// Target noise level.
        #[arg(long, default_value_t = 80.0)]
        sigma: f32,
        /// Network evaluations for the inversion (1-64): hops evenly spaced in log σ, more
        /// follow the ODE more closely; for a model with Heun ladders 1-4 are the reference's
        /// (2: 0.07 > 15 > 80).
        #[arg(long, default_value_t = 2)]
        nfe: usize,
        /// A custom schedule instead, starting at 0.002, e.g. "0.002 > +0.07 > 15 > 80".
        #[arg(long)]
        schedule: Option<String>,
        #[arg(short, long)]
        output: PathBuf,
        /// Also write a viewable picture of the noisy latent.
        #[arg(long)]
        preview: Option<PathBuf>,
    },
    /// Invert a photo to pure noise and generate it back.
    Reconstruct {
        input: PathBuf,
        /// Network evaluations in each direction (1-64; see `invert --nfe`).
        #[arg(long, default_value_t = 2)]
        nfe: usize,
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Slide between two photos in noise space; writes N frames (or one strip).
    Interpolate {
        first: PathBuf,
        second: PathBuf,
        #[arg(long, default_value_t = 5)]
        frames: usize,
        /// Noise level where the two latents are mixed.
        #[arg(long, default_value_t = 80.0)]
        sigma: f32,
        /// Network evaluations for each inversion and each frame (1-64).
        #[arg(long, default_value_t = 2)]
        nfe: usize,
        /// Write all frames side by side into the output instead of numbered files.
        #[arg(long)]
        strip: bool,
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Regenerate the white area of a mask PNG (remove an object, heal a blemish).
    Inpaint {
        input: PathBuf,
        #[arg(long)]
        mask: PathBuf,
        #[command(flatten)]
        fill: InpaintArgs,
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Remove JPEG artefacts or noise. The defaults come from the noise measured in the photo
    /// and, for a JPEG file, from its quality; every pass is then kept consistent with the file.
    Restore {
        input: PathBuf,
        /// Noise level the photo is lifted to (larger removes more, and more detail).
        /// Default: the damage.
        #[arg(long)]
        sigma: Option<f32>,
        /// Noise level the photo's grain or JPEG damage already amounts to; only the
        /// difference up to --sigma is added (equal values: denoise the damage directly).
        /// Default: the noise measured in the photo, or for a JPEG the level its quality
        /// implies (0.08 at quality 10) if that is larger.
        #[arg(long)]
        damage: Option<f32>,
        /// Passes, each at half the previous level (default: 3 for a JPEG, else 1).
        #[arg(long, alias = "nfe")]
        passes: Option<usize>,
        /// Restore 1, 2 or 4 mirrored copies in each pass and average them.
        #[arg(long, default_value_t = RestoreParams::default().mirrors)]
        mirrors: usize,
        /// Treat a JPEG like any photo: no settings from its quality, no consistency with
        /// the file.
        #[arg(long)]
        ignore_jpeg: bool,
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Turn rough colour strokes into content: the strokes PNG (with alpha) is painted over
    /// the photo, inverted to --sigma and regenerated inside the stroke region (or --mask).
    Edit {
        input: PathBuf,
        #[arg(long)]
        strokes: PathBuf,
        /// Region allowed to change (white); default: the strokes, grown.
        #[arg(long)]
        mask: Option<PathBuf>,
        #[arg(long, default_value_t = 2.0)]
        sigma: f32,
        /// Network evaluations back from --sigma (1-4).
        #[arg(long, default_value_t = 2)]
        nfe: usize,
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Train a model on a folder of photos, or continue a run (--resume).
    Train {
        /// Folder of .jpg/.png/.webp photos (searched recursively). With --resume: where the
        /// run's photos are now, if they moved.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Model preset for a new run: tiny or photo.
        #[arg(long, default_value = "photo")]
        preset: String,
        /// Run folder (config, checkpoints, logs, samples).
        #[arg(long)]
        out: PathBuf,
        /// Continue the run in --out from its newest checkpoint. Only --steps, --data,
        /// --loader-threads and the --*-every intervals may change then.
        #[arg(long)]
        resume: bool,
        /// New run: planned length (sets the curriculum). Resume: train until this step.
        #[arg(long)]
        steps: Option<u64>,
        #[arg(long)]
        batch: Option<usize>,
        /// Side of the square training crops.
        #[arg(long)]
        patch: Option<usize>,
        #[arg(long)]
        lr: Option<f64>,
        /// Steps of linear learning-rate warm-up (a short one suits a fine-tune from --init).
        #[arg(long)]
        warmup: Option<u64>,
        /// After the warm-up: constant, or cosine (down to a tenth of --lr at --steps).
        #[arg(long)]
        lr_schedule: Option<String>,
        /// Area-downscale photos by this factor before cropping (1 or 2).
        #[arg(long)]
        downscale: Option<u32>,
        #[arg(long)]
        checkpoint_every: Option<u64>,
        #[arg(long)]
        sample_every: Option<u64>,
        #[arg(long)]
        validate_every: Option<u64>,
        /// bct (bidirectional consistency training), ct (consistency model only, for the
        /// fine-tuning route), denoise (a denoising warm-up to start BCT from) or distill
        /// (bidirectional consistency distillation of the --init model's ODE).
        /// Default bct (or, with --follow-init, the objective the --init model was made with).
        #[arg(long)]
        objective: Option<String>,
        /// Curriculum: discretisation intervals at the start (iCT: 10; fine-tuning: 320).
        #[arg(long)]
        s0: Option<u64>,
        /// Curriculum: intervals at the end (iCT: 1280; fine-tuning: 320).
        #[arg(long)]
        s1: Option<u64>,
        /// Start from these weights (.safetensors with its card); a CM becomes a BCM.
        #[arg(long)]
        init: Option<PathBuf>,
        /// New run: train the way the --init model was made, with the settings its card
        /// records (objective, crops, rate, warm-up, schedule, steps, the losses' weights, and
        /// its teacher where that file is); flags given as well still decide. The shipped model
        /// goes on as it was made with `--init assets/bcm-default.safetensors --follow-init`.
        #[arg(long, requires = "init", conflicts_with = "resume")]
        follow_init: bool,
        /// Photo decoding threads.
        #[arg(long)]
        loader_threads: Option<usize>,
        /// Denoising (also a distillation's denoising part): share of crops JPEG-compressed
        /// (quality 8-60) before noise is added, the target staying clean; teaches restoration
        /// of compressed photos.
        #[arg(long)]
        jpeg_fraction: Option<f64>,
        /// Distillation: crops per step whose ODE path the teacher follows (default: a
        /// quarter of the batch); the batch's pairs of levels are spread over them.
        #[arg(long)]
        paths: Option<usize>,
        /// Distillation: share of each batch's crops that also train the denoising loss at
        /// levels up to 0.5 (with --jpeg-fraction, on JPEG-damaged inputs), which keeps the
        /// model the denoiser restoration needs (default 0.5).
        #[arg(long)]
        denoise_share: Option<f64>,
        /// Distillation: the denoiser whose ODE is distilled, when --init is not it (to
        /// continue a distillation from its exported weights: --init the distilled model,
        /// --teacher the model it was distilled from).
        #[arg(long)]
        teacher: Option<PathBuf>,
        /// Distillation: crops per step that also train the model's own round trip (inverted
        /// to 80 with its plain ladder of a few evaluations and generated back, compared with
        /// the crop), which weighs errors by what they cost a reconstruction (default 4; 0: none).
        #[arg(long)]
        round_trips: Option<usize>,
        /// Distillation: evaluations each way of those round trips, 1 to 4; several (e.g.
        /// 2,4) are drawn from at every step (default 2).
        #[arg(long, value_delimiter = ',')]
        round_trip_nfe: Option<Vec<usize>>,
        /// Distillation: weight of the round trips' squared error against the pairs' loss
        /// (default 1); more favours reconstruction over following the teacher's ODE.
        #[arg(long)]
        round_trip_weight: Option<f32>,
        /// Distillation: weight of the denoising part (--denoise-share) against the pairs'
        /// loss (default 0.1); raise it with --round-trip-weight to keep restoration.
        #[arg(long)]
        denoise_weight: Option<f32>,
        /// Distillation: where the round trips' (and then the model's) plain ladders turn, the
        /// noise added to a photo first (a one-hop ladder's aside); also where the teacher's
        /// paths start (default 0.07, the reference's; 0.01-0.07). Lower buries less of the
        /// photo.
        #[arg(long)]
        ladder_floor: Option<f32>,
    },
    /// Write a run's newest EMA weights (or any model) as a model file with its card.
    Export {
        /// A run folder, or a model .safetensors.
        #[arg(long)]
        from: PathBuf,
        #[command(flatten)]
        out: ModelOutput,
    },
    /// Blend two models of one preset weight by weight, (1 − alpha)·A + alpha·B (or with
    /// --difference C add B − C to A), and write the result as a model file with its card (a
    /// checkpoint merger).
    Merge {
        /// The first model: a .safetensors with its card, or a run folder (its newest EMA).
        a: PathBuf,
        /// The second model, likewise.
        b: PathBuf,
        /// Weight of the second model: 0 gives A, 1 gives B (with --difference: of B − C).
        #[arg(long, default_value_t = 0.5)]
        alpha: f32,
        /// Add the difference instead of blending: A + alpha·(B − C), e.g. what a fine-tune B
        /// learned over its parent C, carried over to another model A.
        #[arg(long, value_name = "C")]
        difference: Option<PathBuf>,
        #[command(flatten)]
        out: ModelOutput,
    },
    /// Measure a model on the held-out photos of a folder (the validation split of `train`).
    Eval {
        #[arg(long)]
        data: PathBuf,
        /// At most this many held-out photos.
        #[arg(long, default_value_t = 16)]
        images: usize,
        /// Side of the centre crop taken from each photo (after the 2x downscale).
        #[arg(long, default_value_t = 128)]
        size: usize,
        /// A folder of test photos that no training or selection decision looked at: the
        /// inpainting table is measured on them too (see scripts/fetch-test-photos.sh).
        #[arg(long)]
        test_data: Option<PathBuf>,
        /// Only the inpainting table (measuring inpainting settings).
        #[arg(long)]
        inpainting_only: bool,
        /// Print Markdown tables (what the model card pastes) instead of aligned columns.
        #[arg(long)]
        markdown: bool,
        /// The inpainting settings measured (default: the defaults).
        #[command(flatten)]
        fill: InpaintArgs,
    },
    /// Time the network: ms per evaluation at several sizes on each device, and peak memory.
    Bench {
        /// Repetitions per size.
        #[arg(long, default_value_t = 3)]
        repeat: usize,
        /// Sizes to time (square sides).
        #[arg(long, value_delimiter = ',', default_value = "64,128,256")]
        sizes: Vec<usize>,
        /// Preset to time.
        #[arg(long, default_value = "photo")]
        preset: String,
        /// Devices to time (cpu, wgpu); default: the CPU and wgpu if an adapter exists.
        #[arg(long, value_delimiter = ',')]
        devices: Vec<String>,
        /// Batch size of the training line; default: the preset's.
        #[arg(long)]
        batch: Option<usize>,
        /// Also restore a 12-megapixel JPEG with the defaults (tens of seconds on a CPU).
        #[arg(long)]
        photo_scale: bool,
    },
}

/// Where `export` and `merge` write a model file, and how.
#[derive(Args, Debug, Clone)]
pub struct ModelOutput {
    /// Destination .safetensors (the .json card is written beside it).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Store the weights as f16 (half the size).
    #[arg(long)]
    pub half: bool,
    /// Name written into the card (default: the source's; for a blend, its recipe).
    #[arg(long)]
    pub name: Option<String>,
}
