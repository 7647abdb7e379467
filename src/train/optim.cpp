#include "train/optim.h"

#include <cmath>
#include <limits>
#include <map>

#include "util/error.h"
#include "util/strings.h"

namespace robotrain::train {

using util::Json;

namespace {

// torch 2.x keys an optimizer's per-parameter state by the parameter's TensorImpl.
void* state_key(const torch::Tensor& p) { return p.unsafeGetTensorImpl(); }

bool is_adamw(const OptimizerConfig& c) { return c.type == "adamw"; }

}  // namespace

Optimizer::Optimizer(const OptimizerConfig& config, const std::vector<policy::ParamGroup>& groups) : config_(config) {
  if (config.type != "adam" && config.type != "adamw")
    throw util::InputError(util::cat("optimizer type '", config.type, "' is not supported; use adam or adamw"));
  std::vector<torch::optim::OptimizerParamGroup> torch_groups;
  for (const auto& g : groups) {
    if (g.params.empty()) continue;  // torch would reject an empty group; LeRobot has none either
    const double lr = g.lr.value_or(config.lr), wd = g.weight_decay.value_or(config.weight_decay);
    std::unique_ptr<torch::optim::OptimizerOptions> opts;
    if (is_adamw(config)) {
      opts = std::make_unique<torch::optim::AdamWOptions>(
          torch::optim::AdamWOptions(lr).betas({config.beta1, config.beta2}).eps(config.eps).weight_decay(wd));
    } else {
      opts = std::make_unique<torch::optim::AdamOptions>(
          torch::optim::AdamOptions(lr).betas({config.beta1, config.beta2}).eps(config.eps).weight_decay(wd));
    }
    torch_groups.emplace_back(g.params, std::move(opts));
    initial_lrs_.push_back(lr);
    group_weight_decay_.push_back(wd);
    all_params_.insert(all_params_.end(), g.params.begin(), g.params.end());
  }
  if (torch_groups.empty()) throw util::RuntimeError("the policy has no trainable parameters");
  if (is_adamw(config)) {
    impl_ = std::make_unique<torch::optim::AdamW>(
        std::move(torch_groups),
        torch::optim::AdamWOptions(config.lr).betas({config.beta1, config.beta2}).eps(config.eps).weight_decay(config.weight_decay));
  } else {
    impl_ = std::make_unique<torch::optim::Adam>(
        std::move(torch_groups),
        torch::optim::AdamOptions(config.lr).betas({config.beta1, config.beta2}).eps(config.eps).weight_decay(config.weight_decay));
  }
}

void Optimizer::zero_grad() {
  // set_to_none, as torch 2.x's default: no memset of every gradient each step.
  for (auto& p : all_params_) {
    if (p.grad().defined()) p.mutable_grad().reset();
  }
}

void Optimizer::step() {
  if (fused_) fused_step();
  else impl_->step();
}

namespace {

// Tensors the fused kernels take together: one device, one dtype.
struct FusedBatch {
  std::vector<torch::Tensor> params, grads, exp_avgs, exp_avg_sqs, steps;
};

bool fused_kernel_supports(const torch::Tensor& p) {
  const auto t = p.scalar_type();
  const bool dtype_ok = t == torch::kFloat32 || t == torch::kFloat64 || t == torch::kFloat16 || t == torch::kBFloat16;
  return dtype_ok && (p.device().is_cpu() || p.device().is_cuda()) && !p.is_sparse();
}

// One parameter's Adam moments after its step count is advanced.
struct Moments {
  int64_t step;
  torch::Tensor exp_avg, exp_avg_sq;
};

// torch::optim's per-parameter state (AdamParamState or AdamWParamState) in its map slot,
// created as torch::optim would create it, so that checkpoints read the same whichever path
// stepped; then its step count advanced.
template <class State>
Moments advance_state(std::unique_ptr<torch::optim::OptimizerParamState>& slot, const torch::Tensor& p) {
  if (!slot) {
    auto s = std::make_unique<State>();
    s->step(0)
        .exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve))
        .exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
    slot = std::move(s);
  }
  auto& s = static_cast<State&>(*slot);
  s.step(s.step() + 1);
  return {s.step(), s.exp_avg(), s.exp_avg_sq()};
}

struct AdamHyper {
  double beta1, beta2, weight_decay, eps;
};

template <class Options>
AdamHyper hyper_of(const torch::optim::OptimizerOptions& o) {
  const auto& a = static_cast<const Options&>(o);
  return {std::get<0>(a.betas()), std::get<1>(a.betas()), a.weight_decay(), a.eps()};
}

// The learning rate as a host number, or a device tensor a captured CUDA graph re-reads.
void run_fused_kernel(FusedBatch& b, bool adamw, const AdamHyper& h, double lr, const torch::Tensor* device_lr) {
  torch::_foreach_add_(b.steps, 1);
  if (device_lr && adamw)
    at::_fused_adamw_(b.params, b.grads, b.exp_avgs, b.exp_avg_sqs, {}, b.steps, *device_lr, h.beta1, h.beta2,
                      h.weight_decay, h.eps, /*amsgrad=*/false, /*maximize=*/false);
  else if (device_lr)
    at::_fused_adam_(b.params, b.grads, b.exp_avgs, b.exp_avg_sqs, {}, b.steps, *device_lr, h.beta1, h.beta2,
                     h.weight_decay, h.eps, false, false);
  else if (adamw)
    at::_fused_adamw_(b.params, b.grads, b.exp_avgs, b.exp_avg_sqs, {}, b.steps, lr, h.beta1, h.beta2, h.weight_decay,
                      h.eps, false, false);
  else
    at::_fused_adam_(b.params, b.grads, b.exp_avgs, b.exp_avg_sqs, {}, b.steps, lr, h.beta1, h.beta2, h.weight_decay,
                     h.eps, false, false);
}

}  // namespace

bool Optimizer::fused_kernels_take_all() const {
  for (auto& group : impl_->param_groups())
    for (auto& p : group.params())
      if (p.grad().defined() && (!fused_kernel_supports(p) || p.grad().is_sparse())) return false;
  return true;
}

torch::Tensor Optimizer::device_step_count(const torch::Tensor& p, int64_t step) {
  // The device-side count follows the host's: incremented on the device when they agree (no
  // host-to-device copy each step), rewritten after a checkpoint load.
  auto& count = step_tensors_[state_key(p)];
  if (!count.count.defined() || count.host_step != step - 1)
    count.count = torch::full({}, static_cast<double>(step - 1), torch::TensorOptions().dtype(torch::kFloat32).device(p.device()));
  count.host_step = step;
  return count.count;
}

void Optimizer::fused_step() {
  torch::NoGradGuard no_grad;
  if (!fused_kernels_take_all()) {
    impl_->step();  // anything the kernels cannot take: torch::optim's loop for everything
    return;
  }
  const bool adamw = is_adamw(config_);
  auto& state = impl_->state();
  for (size_t g = 0; g < impl_->param_groups().size(); ++g) {
    auto& group = impl_->param_groups()[g];
    std::map<std::pair<int, int>, FusedBatch> batches;  // (device index + type, dtype)
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      auto& slot = state[state_key(p)];
      const Moments m = adamw ? advance_state<torch::optim::AdamWParamState>(slot, p)
                              : advance_state<torch::optim::AdamParamState>(slot, p);
      auto& b = batches[{static_cast<int>(p.device().type()) * 1024 + p.device().index() + 1, static_cast<int>(p.scalar_type())}];
      b.params.push_back(p);
      b.grads.push_back(p.grad());
      b.exp_avgs.push_back(m.exp_avg);
      b.exp_avg_sqs.push_back(m.exp_avg_sq);
      b.steps.push_back(device_step_count(p, m.step));
    }
    const auto& o = group.options();
    const AdamHyper h = adamw ? hyper_of<torch::optim::AdamWOptions>(o) : hyper_of<torch::optim::AdamOptions>(o);
    const torch::Tensor* device_lr = g < device_lrs_.size() ? &device_lrs_[g] : nullptr;
    for (auto& [key, b] : batches) run_fused_kernel(b, adamw, h, o.get_lr(), device_lr);
  }
}

size_t Optimizer::num_groups() const { return impl_->param_groups().size(); }

double Optimizer::lr(size_t group) const { return impl_->param_groups().at(group).options().get_lr(); }

void Optimizer::set_lr(size_t group, double lr) {
  impl_->param_groups().at(group).options().set_lr(lr);
  if (group < device_lrs_.size()) device_lrs_[group].fill_(lr);
}

void Optimizer::use_device_lr(const torch::Device& device) {
  device_lrs_.clear();
  for (size_t g = 0; g < num_groups(); ++g)
    device_lrs_.push_back(torch::full({}, lr(g), torch::TensorOptions().dtype(torch::kFloat32).device(device)));
}

void Optimizer::count_replayed_step() {
  auto& state = impl_->state();
  for (auto& group : impl_->param_groups())
    for (auto& p : group.params()) {
      auto it = state.find(state_key(p));
      if (it == state.end()) continue;
      int64_t step = 0;
      if (is_adamw(config_)) {
        auto& st = static_cast<torch::optim::AdamWParamState&>(*it->second);
        st.step(st.step() + 1);
        step = st.step();
      } else {
        auto& st = static_cast<torch::optim::AdamParamState&>(*it->second);
        st.step(st.step() + 1);
        step = st.step();
      }
      auto c = step_tensors_.find(state_key(p));
      if (c != step_tensors_.end()) c->second.host_step = step;
    }
}

NamedTensors Optimizer::state_tensors() const {
  NamedTensors out;
  int64_t id = 0;
  const auto& state = impl_->state();
  for (const auto& group : impl_->param_groups()) {
    for (const auto& p : group.params()) {
      auto it = state.find(state_key(p));
      if (it != state.end()) {
        torch::Tensor exp_avg, exp_avg_sq;
        int64_t step = 0;
        if (is_adamw(config_)) {
          auto& s = static_cast<const torch::optim::AdamWParamState&>(*it->second);
          exp_avg = s.exp_avg(), exp_avg_sq = s.exp_avg_sq(), step = s.step();
        } else {
          auto& s = static_cast<const torch::optim::AdamParamState&>(*it->second);
          exp_avg = s.exp_avg(), exp_avg_sq = s.exp_avg_sq(), step = s.step();
        }
        std::string prefix = util::cat("state/", id, "/");
        // torch 2.x keeps `step` as a float32 scalar tensor; LeRobot saves it that way.
        out.emplace_back(prefix + "exp_avg", exp_avg.detach().cpu().contiguous());
        out.emplace_back(prefix + "exp_avg_sq", exp_avg_sq.detach().cpu().contiguous());
        out.emplace_back(prefix + "step", torch::tensor(static_cast<float>(step)));
      }
      ++id;
    }
  }
  return out;
}

Json Optimizer::param_groups_json(bool with_initial_lr) const {
  Json groups = Json::array();
  int64_t id = 0;
  for (size_t g = 0; g < impl_->param_groups().size(); ++g) {
    const auto& group = impl_->param_groups()[g];
    Json j;
    // torch 2.7+ Adam/AdamW defaults, in their order; "params" last as state_dict() packs it.
    j["lr"] = group.options().get_lr();
    j["betas"] = {config_.beta1, config_.beta2};
    j["eps"] = config_.eps;
    j["weight_decay"] = group_weight_decay_[g];
    j["amsgrad"] = false;
    j["maximize"] = false;
    j["foreach"] = nullptr;
    j["capturable"] = false;
    j["differentiable"] = false;
    j["fused"] = nullptr;
    j["decoupled_weight_decay"] = is_adamw(config_);
    if (with_initial_lr) j["initial_lr"] = initial_lrs_[g];
    Json ids = Json::array();
    for (size_t i = 0; i < group.params().size(); ++i) ids.push_back(id++);
    j["params"] = ids;
    groups.push_back(j);
  }
  return groups;
}

void Optimizer::load(const std::map<std::string, torch::Tensor>& state, const Json& param_groups) {
  auto& groups = impl_->param_groups();
  if (!param_groups.is_array() || param_groups.size() != groups.size())
    throw util::RuntimeError(util::cat("optimizer_param_groups.json has ",
                                       param_groups.is_array() ? param_groups.size() : 0, " groups but the policy has ",
                                       groups.size(), "; resume with the same policy type and configuration"));
  int64_t id = 0;
  for (size_t g = 0; g < groups.size(); ++g) {
    const Json& jg = param_groups[g];
    auto params_it = jg.find("params");
    if (params_it == jg.end() || !params_it->is_array() || params_it->size() != groups[g].params().size())
      throw util::RuntimeError(util::cat("optimizer_param_groups.json: group ", g, " lists a different number of ",
                                         "parameters than the policy has (", groups[g].params().size(),
                                         "); the checkpoint belongs to another configuration"));
    if (auto lr = jg.find("lr"); lr != jg.end() && lr->is_number()) set_lr(g, lr->get<double>());
    if (auto ilr = jg.find("initial_lr"); ilr != jg.end() && ilr->is_number()) initial_lrs_[g] = ilr->get<double>();
    for (auto& p : groups[g].params()) {
      std::string prefix = util::cat("state/", id, "/");
      auto a = state.find(prefix + "exp_avg"), b = state.find(prefix + "exp_avg_sq"), s = state.find(prefix + "step");
      ++id;
      if (a == state.end() && b == state.end()) continue;  // never stepped (e.g. no gradient yet)
      if (a == state.end() || b == state.end() || s == state.end())
        throw util::RuntimeError(util::cat("optimizer_state.safetensors: incomplete state for parameter ", id - 1));
      if (a->second.sizes() != p.sizes() || b->second.sizes() != p.sizes())
        throw util::RuntimeError(util::cat("optimizer_state.safetensors: state/", id - 1, " has shape ",
                                           a->second.sizes(), " but the parameter has ", p.sizes(),
                                           "; the checkpoint belongs to another configuration"));
      auto opts = p.options();
      auto exp_avg = a->second.to(opts).clone(), exp_avg_sq = b->second.to(opts).clone();
      auto step = static_cast<int64_t>(std::llround(s->second.to(torch::kDouble).item<double>()));
      if (is_adamw(config_)) {
        auto st = std::make_unique<torch::optim::AdamWParamState>();
        st->step(step).exp_avg(exp_avg).exp_avg_sq(exp_avg_sq);
        impl_->state()[state_key(p)] = std::move(st);
      } else {
        auto st = std::make_unique<torch::optim::AdamParamState>();
        st->step(step).exp_avg(exp_avg).exp_avg_sq(exp_avg_sq);
        impl_->state()[state_key(p)] = std::move(st);
      }
    }
  }
}

torch::Tensor clip_grad_norm_tensor(const std::vector<torch::Tensor>& params, double max_norm) {
  // torch.nn.utils.clip_grad_norm_(foreach=True): per-tensor norms in one call, their norm,
  // then every gradient scaled by min(1, max_norm / (norm + 1e-6)) in one call.
  torch::NoGradGuard no_grad;
  std::map<std::pair<int, int>, std::vector<torch::Tensor>> grads;  // by device and dtype
  for (const auto& p : params)
    if (p.grad().defined())
      grads[{static_cast<int>(p.grad().device().type()) * 1024 + p.grad().device().index() + 1,
             static_cast<int>(p.grad().scalar_type())}]
          .push_back(p.grad());
  if (grads.empty()) return torch::zeros({});
  std::vector<torch::Tensor> norms;
  torch::Device device = grads.begin()->second.front().device();
  for (auto& [key, list] : grads)
    for (auto& n : torch::_foreach_norm(list, 2)) norms.push_back(n.to(device, torch::kFloat32));
  auto total = torch::stack(norms).norm(2);
  if (max_norm > 0) {
    auto coef = torch::clamp(max_norm / (total + 1e-6), c10::nullopt, 1.0);
    for (auto& [key, list] : grads) torch::_foreach_mul_(list, coef.to(list.front().device(), list.front().scalar_type()));
  }
  return total;
}

double clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm) {
  return clip_grad_norm_tensor(params, max_norm).item<double>();
}

LrScheduler::LrScheduler(const SchedulerConfig& config, int64_t num_training_steps, Optimizer& optimizer)
    : config_(config), total_(num_training_steps), optimizer_(optimizer) {
  if (config.type != "diffuser")
    throw util::InputError(util::cat("scheduler type '", config.type, "' is not supported; use diffuser"));
  for (const char* n : {"cosine", "constant", "linear", "constant_with_warmup"}) {
    if (config.name == n) goto known;
  }
  throw util::InputError(util::cat("diffusers schedule '", config.name,
                                   "' is not supported; use cosine, linear, constant or constant_with_warmup"));
known:
  for (size_t g = 0; g < optimizer.num_groups(); ++g) base_lrs_.push_back(optimizer.initial_lr(g));
  apply();
}

double LrScheduler::factor(int64_t step) const {
  const double s = static_cast<double>(step);
  const double warm = static_cast<double>(config_.num_warmup_steps);
  if (config_.name == "constant") return 1.0;
  if (step < config_.num_warmup_steps) return s / std::max(1.0, warm);
  if (config_.name == "constant_with_warmup") return 1.0;
  double span = std::max(1.0, static_cast<double>(total_) - warm);
  if (config_.name == "linear") return std::max(0.0, (static_cast<double>(total_) - s) / span);
  double progress = (s - warm) / span;
  return std::max(0.0, 0.5 * (1.0 + std::cos(M_PI * 0.5 * 2.0 * progress)));  // num_cycles 0.5
}

void LrScheduler::apply() {
  double f = factor(last_epoch_);
  for (size_t g = 0; g < base_lrs_.size(); ++g) optimizer_.set_lr(g, base_lrs_[g] * f);
}

void LrScheduler::step() {
  ++last_epoch_;
  apply();
}

Json LrScheduler::state_json() const {
  Json last_lr = Json::array();
  for (size_t g = 0; g < base_lrs_.size(); ++g) last_lr.push_back(optimizer_.lr(g));
  // torch 2.10's LambdaLR.state_dict() of a function lambda, every key in its order: LeRobot's
  // load_scheduler_state rejects a file whose keys differ from the live scheduler's
  // (_is_initial is True only inside the constructor's first step).
  Json lambdas = Json::array();
  for (size_t g = 0; g < base_lrs_.size(); ++g) lambdas.push_back(nullptr);
  return Json{{"base_lrs", base_lrs_},
              {"last_epoch", last_epoch_},
              {"_step_count", last_epoch_ + 1},
              {"_is_initial", false},
              {"_get_lr_called_within_step", false},
              {"_last_lr", last_lr},
              {"lr_lambdas", lambdas}};
}

void LrScheduler::load(const Json& state) {
  auto it = state.find("last_epoch");
  if (it == state.end() || !it->is_number_integer())
    throw util::RuntimeError("scheduler_state.json: 'last_epoch' missing or not an integer");
  last_epoch_ = it->get<int64_t>();
  if (auto b = state.find("base_lrs"); b != state.end() && b->is_array() && b->size() == base_lrs_.size())
    base_lrs_ = b->get<std::vector<double>>();
  apply();
}

}  // namespace robotrain::train
