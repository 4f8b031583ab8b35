#include "training_loop.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"

namespace cimsim::train {

PassStats train_epoch(NetworkImpl& net, torch::optim::Optimizer& optimizer, const ImageTensors& data,
                      const std::vector<int64_t>& order, int batch_size, const ProgressFn& progress) {
  net.train();
  const int64_t count = int64_t(order.size());
  const int64_t batches = (count + batch_size - 1) / batch_size;
  const torch::Tensor index = torch::tensor(order, torch::kLong);
  double loss_sum = 0;
  int64_t correct = 0;
  for (int64_t b = 0; b < batches; ++b) {
    const torch::Tensor picked = index.slice(0, b * batch_size, std::min(count, (b + 1) * batch_size));
    const torch::Tensor images = data.images.index_select(0, picked);
    const torch::Tensor labels = data.labels.index_select(0, picked);
    optimizer.zero_grad();
    const torch::Tensor logits = net.forward(images);
    const torch::Tensor loss = torch::cross_entropy_loss(logits, labels);
    const double value = loss.item<double>();
    if (!std::isfinite(value)) {
      // Stops before the step and before any checkpoint of this epoch: the last good one is kept.
      throw InputError("the training loss is not finite (" + std::to_string(value) + ") at step " +
                       std::to_string(b + 1) + " of the epoch; check data.mean and data.std (a tiny std "
                       "overflows the inputs) and lower the learning rate");
    }
    loss.backward();
    optimizer.step();
    loss_sum += value * double(picked.size(0));
    correct += logits.argmax(1).eq(labels).sum().item<int64_t>();
    if (progress) progress(b + 1, batches, loss_sum / double(std::min(count, (b + 1) * batch_size)));
  }
  return {loss_sum / double(count), double(correct) / double(count)};
}

PassStats evaluate(NetworkImpl& net, const ImageTensors& data, int batch_size) {
  torch::NoGradGuard no_grad;
  const bool was_training = net.is_training();
  net.eval();
  double loss_sum = 0;
  int64_t correct = 0;
  for (int64_t first = 0; first < data.count(); first += batch_size) {
    const int64_t last = std::min(data.count(), first + batch_size);
    const torch::Tensor logits = net.forward(data.images.slice(0, first, last));
    const torch::Tensor labels = data.labels.slice(0, first, last);
    loss_sum += torch::cross_entropy_loss(logits, labels, {}, at::Reduction::Sum).item<double>();
    correct += logits.argmax(1).eq(labels).sum().item<int64_t>();
  }
  net.train(was_training);
  return {loss_sum / double(data.count()), double(correct) / double(data.count())};
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(NetworkImpl& net, const OptimizerSpec& spec,
                                                        double lr) {
  std::vector<torch::optim::OptimizerParamGroup> groups;
  if (spec.type == "sgd") {
    auto options = [&](double decay) {
      return std::make_unique<torch::optim::SGDOptions>(
          torch::optim::SGDOptions(lr).momentum(spec.momentum).nesterov(spec.nesterov).weight_decay(decay));
    };
    groups.emplace_back(net.other_parameters(), options(spec.weight_decay));
    groups.emplace_back(net.step_parameters(), options(0.0));
    return std::make_unique<torch::optim::SGD>(groups, torch::optim::SGDOptions(lr));
  }
  auto options = [&](double decay) {
    return std::make_unique<torch::optim::AdamOptions>(
        torch::optim::AdamOptions(lr).betas({spec.beta1, spec.beta2}).weight_decay(decay));
  };
  groups.emplace_back(net.other_parameters(), options(spec.weight_decay));
  groups.emplace_back(net.step_parameters(), options(0.0));
  return std::make_unique<torch::optim::Adam>(groups, torch::optim::AdamOptions(lr));
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

}  // namespace cimsim::train
