// Export and import of model bundles: the exported bundle passes the loader, holds the quantizers'
// integers and steps, and loading it into a fresh network gives back exactly the same function.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "architectures.h"
#include "bundle_io.h"
#include "core/error.h"
#include "image_tensors.h"
#include "training_loop.h"

namespace cimsim::train {
namespace {

namespace fs = std::filesystem;

ExperimentConfig config(const std::string& arch) {
  return parse_experiment("name: rt\nnetwork: {arch: " + arch +
                              ", width: 0.25}\n"
                              "data: {set: fashion-mnist, train_limit: 128, test_limit: 16}\n"
                              "bits: {weight: 3, input: 5}\n"
                              "optimizer: {type: adam, lr: 0.01}\nschedule: {epochs: 1, batch_size: 32}\n",
                          "rt.yaml");
}

TEST(BundleRoundTrip, ExportThenLoadGivesTheSameNetwork) {
  torch::set_num_threads(2);
  for (const char* arch : {"lenet5", "vgg8", "resnet20"}) {
    const ExperimentConfig c = config(arch);
    torch::manual_seed(2);
    Network net(architecture(c));
    net->set_quantized(true);
    const ImageTensors train = to_tensors(load_split(c.data, data::Split::kTrain), c.data.mean, c.data.std);
    auto optimizer = make_optimizer(*net, c.optimizer, 0.01);
    train_epoch(*net, *optimizer, train, epoch_order(train.count(), 3, 0), 32);
    net->to(torch::kDouble);

    const std::string dir = (fs::path(::testing::TempDir()) / ("rt_" + std::to_string(::getpid()))).string();
    write_model_bundle_atomically(export_bundle(*net), dir);
    const ModelBundle bundle = load_model_bundle(dir);
    fs::remove_all(dir);

    // The integers and steps of the first layer are the quantizer's.
    const BundleLayer& first = bundle.layers[0];
    const torch::Tensor w_int = net->nodes()[0].conv->integer_weight();
    for (int o = 0; o < first.out_channels; ++o) {
      EXPECT_EQ(first.weight_scale[std::size_t(o)],
                net->nodes()[0].conv->weight_quantizer->step()[o].item<double>());
      EXPECT_EQ(first.weight(0, o), int(w_int[o][0][0][0].item<double>()));
    }
    EXPECT_EQ(first.input_scale, net->nodes()[0].conv->input_quantizer->step().item<double>());
    EXPECT_TRUE(first.has_adc && first.adc.full);
    EXPECT_LE(w_int.abs().max().item<double>(), 3.0);

    torch::manual_seed(99);  // other initial weights, all overwritten by the bundle
    Network loaded(architecture(c));
    loaded->to(torch::kDouble);
    load_bundle_into(*loaded, bundle);
    net->eval();
    loaded->eval();
    const ImageTensors test =
        to_tensors(load_split(c.data, data::Split::kTest), c.data.mean, c.data.std, torch::kDouble);
    torch::NoGradGuard no_grad;
    EXPECT_TRUE(torch::equal(net->forward(test.images), loaded->forward(test.images))) << arch;
  }
}

TEST(BundleRoundTrip, MismatchedBundlesAreRejected) {
  const ExperimentConfig lenet = config("lenet5");
  torch::manual_seed(2);
  Network net(architecture(lenet));
  Network other(architecture(config("resnet20")));
  other->set_quantized(true);
  other->eval();
  for (auto& n : other->nodes()) {  // never trained: give the activation steps a value
    if (n.conv) n.conv->input_quantizer->set_step(torch::tensor({0.1}));
    if (n.linear) n.linear->input_quantizer->set_step(torch::tensor({0.1}));
  }
  const ModelBundle bundle = export_bundle(*other);
  try {
    load_bundle_into(*net, bundle);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "layer 0 is conv2d 'conv1' 1->4 kernel 3x3 but the experiment's network has conv2d "
                  "'conv1' 1->2 kernel 5x5"),
              std::string::npos)
        << e.what();
  }
  // A network that was never quantized cannot be exported.
  EXPECT_THROW(export_bundle(*net), InputError);
}

// A network over another network's modules (cimsim.torch's view of a Python model) shares them: the
// same forward, its stage taken from the modules; modules that do not fit a layer are refused.
TEST(BundleRoundTrip, NetworkOverExistingModulesSharesThem) {
  const ExperimentConfig c = config("lenet5");
  torch::manual_seed(2);
  Network net(architecture(c));
  net->set_quantized(true);
  net->eval();
  Network view(net->graph(), net->nodes());
  EXPECT_TRUE(view->quantized());
  EXPECT_EQ(view->parameters().size(), net->parameters().size());
  EXPECT_EQ(view->parameters()[0].data_ptr(), net->parameters()[0].data_ptr());
  const torch::Tensor images = torch::rand({4, 1, 28, 28});
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(view->forward(images), net->forward(images)));

  std::vector<NetworkNode> swapped = net->nodes();
  std::swap(swapped[0], swapped[3]);  // conv1 and conv2: other geometry
  try {
    Network bad(net->graph(), swapped);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("layer conv1 (conv2d) is given a module of another type, geometry"),
              std::string::npos)
        << e.what();
  }
  std::vector<NetworkNode> fewer(net->nodes().begin(), net->nodes().end() - 1);
  EXPECT_THROW(Network(net->graph(), fewer), InputError);
}

}  // namespace
}  // namespace cimsim::train
