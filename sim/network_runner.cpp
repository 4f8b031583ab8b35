#include "network_runner.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <map>

#include "adc/layer_interval.h"
#include "bundle/bundle_mapping.h"
#include "bundle/data_fit.h"
#include "core/error.h"
#include "layer_engine.h"
#include "network/tensor_ops.h"
#include "vcd_trace.h"

namespace cimsim {
namespace {

ConvGeometry geometry_of(const BundleLayer& l) {
  return ConvGeometry{l.kernel[0], l.kernel[1], l.stride[0], l.stride[1], l.padding[0], l.padding[1]};
}

class NetworkController : public sc_core::sc_module {
 public:
  // With `choose`, the layer-by-layer order of calibrate_network; else images in batches through
  // every layer.
  NetworkController(sc_core::sc_module_name name, const HwConfig& hw, const ModelBundle& bundle,
                    const data::Dataset& data, const NetworkOptions& options, NetworkReport& report,
                    const IntervalChooser* choose = nullptr)
      : sc_core::sc_module(name),
        hw_(hw),
        bundle_(bundle),
        data_(data),
        options_(options),
        report_(report),
        choose_(choose) {
    window_ = TraceWindow::for_run(hw, options.trace_path, options.trace_from, options.trace_to,
                                   options.trace_adcs, options.trace_all_adcs);
    period_ = window_.period;
    engines_.resize(bundle.layers.size());
    for (std::size_t i = 0; i < bundle.layers.size(); ++i) {
      const BundleLayer& l = bundle.layers[i];
      if (!l.is_cim()) continue;
      // cimsim calibrate's order measures every layer over the full range first.
      const AdcInterval interval =
          choose ? hw.full_interval() : layer_interval(hw, l.name, l.has_adc ? &l.adc : nullptr);
      engines_[i] =
          std::make_unique<LayerEngine>(l.name.c_str(), hw, l.weight, map_bundle_layer(l, hw.macro), interval,
                                        options.seed, uint64_t(i), window_, hw.chip.copies_of(l.name));
      engines_[i]->set_histograms(options.histograms);
    }
    report_.layers.resize(bundle.layers.size());
    SC_HAS_PROCESS(NetworkController);
    SC_THREAD(run);
    if (options.progress) set_stack_size(kProgressStackBytes);
  }

  const LayerEngine* engine(std::size_t i) const { return engines_[i].get(); }
  const TraceWindow& window() const { return window_; }
  // What the run threw, if anything.
  std::exception_ptr error() const { return error_; }
  void trace(TraceSink& sink) {
    for (auto& e : engines_)
      if (e) e->trace(sink);
  }

 private:
  Tensor run_cim(std::size_t index, const Tensor& in, int64_t first_image) {
    const BundleLayer& l = bundle_.layers[index];
    LayerEngine& engine = *engines_[index];
    const int images = in.batch;
    const bool conv = l.type == LayerType::kConv2d;
    const ConvGeometry g = geometry_of(l);
    const int oh = conv ? g.out_h(in.height) : 1, ow = conv ? g.out_w(in.width) : 1;
    const int pixels = int(l.output_pixels());
    // Pixel-major rows for lock-step transactions: row p * images + i = pixel p of image i.
    auto pass = [&](InputPart part, Eigen::MatrixXd& out) {
      const InputMatrix rows = conv ? im2col_input_matrix(in, g, l.input_scale, bundle_.bits.input, part)
                                    : flatten_input_matrix(in, l.input_scale, bundle_.bits.input, part);
      engine.process_pixels(rows, out, images, pixels, first_image, part == InputPart::kNegative ? 1 : 0);
    };
    Eigen::MatrixXd out;
    if (l.input_signed) {
      // Two passes on the same macros, x+ then x-; the digital unit subtracts (section 11).
      Eigen::MatrixXd minus;
      pass(InputPart::kPositive, out);
      pass(InputPart::kNegative, minus);
      out -= minus;
      const double bound = accumulator_bound(hw_.macro);
      if (bound > 0) {
        engine.count_saturations(((out.array() < -bound) || (out.array() > bound - 1.0)).count());
        out = out.array().max(-bound).min(bound - 1.0).matrix();
      }
    } else {
      pass(InputPart::kUnsigned, out);
    }
    return affine_from_mvm(out, images, oh, ow, l.weight_scale, l.input_scale, l.bias, conv);
  }

  Tensor run_digital(const BundleLayer& l, const std::vector<const Tensor*>& in) {
    switch (l.type) {
      case LayerType::kBatchNorm:
        return batchnorm(*in[0], l.bn_scale, l.bn_shift);
      case LayerType::kRelu:
        return relu(*in[0]);
      case LayerType::kMaxPool:
        return maxpool(*in[0], geometry_of(l));
      case LayerType::kAvgPool:
        return avgpool(*in[0], geometry_of(l));
      case LayerType::kGlobalAvgPool:
        return global_avgpool(*in[0]);
      case LayerType::kFlatten:
        return flatten(*in[0]);
      case LayerType::kAdd:
        return add(*in[0], *in[1]);
      case LayerType::kConcat:
        return concat(in);
      case LayerType::kClip:
        return clip(*in[0], l.clip_min, l.clip_max);
      default:
        break;
    }
    SC_REPORT_ERROR("cimsim/network", "unexpected layer type");
    return {};
  }

  // A line every few seconds on long runs: images done, share, and the time left at this pace.
  void report_progress(int64_t done, int64_t count) {
    if (options_.progress) options_.progress(done, count);
    const auto now = std::chrono::steady_clock::now();
    const double since_start = std::chrono::duration<double>(now - started_).count();
    if (done < count && std::chrono::duration<double>(now - last_report_).count() < 3.0) return;
    if (since_start < 3.0) return;
    last_report_ = now;
    spdlog::info("{}/{} images ({:.0f}%), {:.0f} s elapsed, {:.0f} s left", done, count,
                 100.0 * double(done) / double(count), since_start,
                 since_start * double(count - done) / double(done));
  }

  // The input tensors of layer i: the network input or earlier layers' outputs.
  std::vector<const Tensor*> inputs_of(const BundleLayer& l, const Tensor& input,
                                       const std::vector<Tensor>& outputs) const {
    std::vector<const Tensor*> in;
    for (int src : l.inputs) in.push_back(src < 0 ? &input : &outputs[std::size_t(src)]);
    return in;
  }

  // CIM layer `index` over every image of `in`, in batches of options_.batch images.
  Tensor run_cim_batches(std::size_t index, const Tensor& in) {
    Tensor all;
    for (int first = 0; first < in.batch; first += options_.batch) {
      const int images = std::min(options_.batch, in.batch - first);
      Tensor slice(images, in.channels, in.height, in.width);
      std::copy_n(in.data.begin() + std::ptrdiff_t(std::size_t(first) * in.per_image()), slice.data.size(),
                  slice.data.begin());
      const Tensor out = run_cim(index, slice, first);
      if (first == 0) all = Tensor(in.batch, out.channels, out.height, out.width);
      std::copy(out.data.begin(), out.data.end(),
                all.data.begin() + std::ptrdiff_t(std::size_t(first) * out.per_image()));
    }
    return all;
  }

  void run_layer_by_layer() {
    const std::size_t layers = bundle_.layers.size();
    std::vector<std::size_t> last_use(layers, 0);
    for (std::size_t i = 0; i < layers; ++i)
      for (int src : bundle_.layers[i].inputs)
        if (src >= 0) last_use[std::size_t(src)] = i;
    const Tensor input = normalised_images(data_, 0, int(data_.count), bundle_.input.mean, bundle_.input.std);
    std::vector<Tensor> outputs(layers);
    try {
      for (std::size_t i = 0; i < layers; ++i) {
        const BundleLayer& l = bundle_.layers[i];
        const std::vector<const Tensor*> in = inputs_of(l, input, outputs);
        if (l.is_cim()) {
          run_cim_batches(i, *in[0]);  // measured over the full range
          engines_[i]->set_interval((*choose_)(l, engines_[i]->merged_stats()));
          outputs[i] = run_cim_batches(i, *in[0]);
        } else {
          outputs[i] = run_digital(l, in);
        }
        for (int src : l.inputs)
          if (src >= 0 && last_use[std::size_t(src)] == i) outputs[std::size_t(src)] = Tensor{};
      }
    } catch (...) {
      error_ = std::current_exception();  // rethrown by calibrate_network as it was thrown
    }
    sc_core::sc_stop();
  }

  void run() {
    if (choose_) {
      run_layer_by_layer();
      return;
    }
    started_ = last_report_ = std::chrono::steady_clock::now();
    try {
      if (hw_.chip.dataflow == Dataflow::kPipelined)
        run_pipelined();
      else
        run_in_batches();
    } catch (...) {
      error_ = std::current_exception();  // rethrown by run_network as it was thrown
      sc_core::sc_stop();
    }
  }

  void run_in_batches() {
    const int64_t count = data_.count;
    report_.logits.resize(count, bundle_.classes);
    std::vector<Tensor> outputs(bundle_.layers.size());
    for (int64_t first = 0; first < count; first += options_.batch) {
      const int images = int(std::min<int64_t>(options_.batch, count - first));
      const Tensor input = normalised_images(data_, first, images, bundle_.input.mean, bundle_.input.std);
      for (std::size_t i = 0; i < bundle_.layers.size(); ++i)
        outputs[i] = run_stage(i, inputs_of(bundle_.layers[i], input, outputs), first);
      report_progress(first + images, count);
      keep_logits(outputs.back(), first);
    }
    sc_core::sc_stop();
  }

  // Layer i on one batch: its arithmetic, its MVM cycles and its digital cycles in simulated time.
  Tensor run_stage(std::size_t i, const std::vector<const Tensor*>& in, int64_t first) {
    const BundleLayer& l = bundle_.layers[i];
    const sc_core::sc_time begin = sc_core::sc_time_stamp();
    Tensor out = l.is_cim() ? run_cim(i, *in[0], first) : run_digital(l, in);
    const int64_t digital = digital_cycles(hw_, bundle_, i);
    wait(period_ * double(digital));
    // The buffer traffic overlaps the compute; a stage it takes longer waits for it.
    const int64_t compute = int64_t(std::llround((sc_core::sc_time_stamp() - begin) / period_));
    const int64_t traffic = buffer_cycles(hw_, bundle_, i);
    if (traffic > compute) wait(period_ * double(traffic - compute));
    NetworkLayerReport& r = report_.layers[i];
    r.digital_ops_per_image = digital_ops(bundle_, i);
    r.digital_cycles_per_image = digital;
    r.buffer_bytes_per_image = buffer_bytes(hw_, bundle_, i);
    r.buffer_cycles_per_image = traffic;
    r.cycles_per_image = int64_t(std::llround((sc_core::sc_time_stamp() - begin) / period_));
    return out;
  }

  void keep_logits(const Tensor& logits, int64_t first) {
    const int classes = bundle_.classes;
    for (int b = 0; b < logits.batch; ++b)
      for (int c = 0; c < classes; ++c)
        report_.logits(first + b, c) = logits.data[std::size_t(b) * classes + c];
  }

  // chip.dataflow pipelined: every layer a stage (its own thread) taking the batches in order; a
  // stage starts a batch when it is done with the previous one and its inputs' stages are done
  // with this one. Outputs wait in buffers until their last reader has them.
  void run_pipelined() {
    const std::size_t layers = bundle_.layers.size();
    done_.assign(layers, 0);
    done_events_ = std::make_unique<sc_core::sc_event[]>(layers);
    buffers_.assign(layers, {});
    readers_.assign(layers, 0);
    for (const BundleLayer& l : bundle_.layers)
      for (int src : l.inputs)
        if (src >= 0) ++readers_[std::size_t(src)];
    started_ = last_report_ = std::chrono::steady_clock::now();
    report_.logits.resize(data_.count, bundle_.classes);
    sc_core::sc_spawn_options spawn;
    if (options_.progress) spawn.set_stack_size(int(kProgressStackBytes));
    for (std::size_t i = 0; i < layers; ++i)
      sc_core::sc_spawn([this, i] { stage_or_stop(i); }, nullptr, &spawn);
    while (finished_stages_ < layers) wait(stage_finished_);
    sc_core::sc_stop();
  }

  // A stage's error ends the run; the first is rethrown by run_network.
  void stage_or_stop(std::size_t i) {
    try {
      stage(i);
    } catch (...) {
      if (!error_) error_ = std::current_exception();
      sc_core::sc_stop();
    }
  }

  void stage(std::size_t i) {
    const BundleLayer& l = bundle_.layers[i];
    const int64_t count = data_.count;
    int64_t k = 0;
    for (int64_t first = 0; first < count; first += options_.batch, ++k) {
      for (int src : l.inputs)
        while (src >= 0 && done_[std::size_t(src)] <= k) wait(done_events_[std::size_t(src)]);
      Tensor input;
      std::vector<const Tensor*> in;
      for (int src : l.inputs) {
        if (src < 0 && input.data.empty())
          input = normalised_images(data_, first, int(std::min<int64_t>(options_.batch, count - first)), bundle_.input.mean,
                                    bundle_.input.std);
        in.push_back(src < 0 ? &input : &buffers_[std::size_t(src)].at(k).tensor);
      }
      Tensor out = run_stage(i, in, first);
      for (int src : l.inputs)
        if (src >= 0 && --buffers_[std::size_t(src)].at(k).readers == 0) buffers_[std::size_t(src)].erase(k);
      if (i + 1 == bundle_.layers.size()) {
        keep_logits(out, first);
        report_progress(first + out.batch, count);
      } else {
        buffers_[i][k] = Buffered{std::move(out), readers_[i]};
      }
      ++done_[i];
      done_events_[i].notify();
    }
    ++finished_stages_;
    stage_finished_.notify();
  }

  const HwConfig& hw_;
  const ModelBundle& bundle_;
  const data::Dataset& data_;
  NetworkOptions options_;
  NetworkReport& report_;
  const IntervalChooser* choose_;
  std::exception_ptr error_;
  sc_core::sc_time period_;
  std::vector<std::unique_ptr<LayerEngine>> engines_;
  TraceWindow window_;
  // The pipelined schedule: batches each stage is done with, their events, the outputs not yet
  // read by every reader (by batch), and each layer's number of readers.
  struct Buffered {
    Tensor tensor;
    int readers = 0;
  };
  std::vector<int64_t> done_;
  std::unique_ptr<sc_core::sc_event[]> done_events_;
  std::vector<std::map<int64_t, Buffered>> buffers_;
  std::vector<int> readers_;
  std::size_t finished_stages_ = 0;
  sc_core::sc_event stage_finished_;
  std::chrono::steady_clock::time_point started_, last_report_;
};

}  // namespace

NetworkReport run_network(const HwConfig& configured, const ModelBundle& bundle, const data::Dataset& data,
                          const NetworkOptions& options) {
  const HwConfig hw = resolve_duplication(configured, bundle);
  check_bundle_fits(hw, bundle);
  check_data_fits(bundle, data, bundle.manifest, "choose the model's data set (--data)");
  NetworkReport report;
  report.model = bundle.name;
  report.images = data.count;
  report.clock_mhz = hw.timing.clock_mhz;
  NetworkController controller("network", hw, bundle, data, options, report);
  OutputFiles own_outputs;
  std::unique_ptr<VcdTrace> trace;
  if (controller.window().enabled) {
    trace = std::make_unique<VcdTrace>(options.trace_path, options.outputs ? *options.outputs : own_outputs,
                                       controller.window());
    controller.trace(trace->sink());
  }
  sc_core::sc_start();
  if (controller.error()) std::rethrow_exception(controller.error());
  if (trace) {
    trace->close();
    if (!options.outputs) own_outputs.commit();
  }

  report.simulated_cycles = int64_t(std::llround(sc_core::sc_time_stamp() / controller.window().period));
  std::vector<int64_t> stage_cycles;
  for (const NetworkLayerReport& r : report.layers) {
    stage_cycles.push_back(r.cycles_per_image);
    if (report.bottleneck < 0 ||
        r.cycles_per_image > report.layers[std::size_t(report.bottleneck)].cycles_per_image)
      report.bottleneck = int(stage_cycles.size()) - 1;
  }
  double run_seconds = 0;
  if (hw.chip.dataflow == Dataflow::kPipelined) {
    report.cycles_per_image = report.layers[std::size_t(report.bottleneck)].cycles_per_image;
    report.latency_cycles = pipeline_cycles(bundle, stage_cycles, 1);
    report.run_cycles = pipeline_cycles(bundle, stage_cycles, report.images);
    run_seconds = double(report.run_cycles) / (hw.timing.clock_mhz * 1e6);
  } else {
    for (const NetworkLayerReport& r : report.layers) report.cycles_per_image += r.cycles_per_image;
    report.latency_cycles = report.cycles_per_image;
    report.run_cycles = report.cycles_per_image * report.images;
    run_seconds = double(report.cycles_per_image) * double(report.images) / (hw.timing.clock_mhz * 1e6);
  }
  int64_t digital_cycles = 0;  // the digital unit's, all images
  for (std::size_t i = 0; i < bundle.layers.size(); ++i) {
    const BundleLayer& l = bundle.layers[i];
    NetworkLayerReport& r = report.layers[i];
    r.name = l.name;
    r.type = layer_type_name(l.type);
    r.cim = l.is_cim();
    r.digital_pj = double(r.digital_ops_per_image) * double(report.images) * hw.digital.pj_per_op;
    r.buffer_pj = double(r.buffer_bytes_per_image) * double(report.images) * hw.buffer.pj_per_byte;
    report.digital_pj += r.digital_pj;
    report.buffer_pj += r.buffer_pj;
    digital_cycles += r.digital_cycles_per_image * report.images;
    const LayerEngine* e = controller.engine(i);
    if (!e) continue;
    // A mapped macro holds its weights between layers too: it leaks for the whole run, or with
    // power gating only while its layer runs: its rounds of pixels (copies at a time) per image.
    const int64_t rounds = (l.output_pixels() + e->copies() - 1) / e->copies() * l.input_passes();
    const double busy_seconds =
        double(rounds * e->cycles_per_mvm() * report.images) / (hw.timing.clock_mhz * 1e6);
    r.mvm = report_layer(*e, hw, l.name, l.output_pixels() * l.input_passes() * report.images,
                         hw.chip.power_gating ? busy_seconds : run_seconds);
    report.energy.add(r.mvm.energy);
  }
  const double digital_seconds =
      hw.chip.power_gating ? double(digital_cycles) / (hw.timing.clock_mhz * 1e6) : run_seconds;
  report.digital_static_pj = hw.digital.leakage_mw * 1e-3 * digital_seconds * 1e12;
  report.buffer_capacity_bytes = buffer_capacity(hw, bundle, stage_cycles);
  report.predictions.resize(std::size_t(report.images));
  for (int64_t b = 0; b < report.images; ++b) {
    Eigen::Index best = 0;
    report.logits.row(b).maxCoeff(&best);  // first index of the maximum
    report.predictions[std::size_t(b)] = int(best);
    if (b < int64_t(data.labels.size()) && data.labels[std::size_t(b)] == best) ++report.correct;
  }
  return report;
}

void calibrate_network(const HwConfig& configured, const ModelBundle& bundle, const data::Dataset& data,
                       const NetworkOptions& options, const IntervalChooser& choose) {
  const HwConfig hw = resolve_duplication(configured, bundle);
  check_bundle_fits(hw, bundle);
  check_data_fits(bundle, data, bundle.manifest, "choose the model's data set (--data)");
  NetworkOptions own = options;
  own.trace_path.clear();
  own.histograms = true;  // what `choose` chooses from
  NetworkReport unused;
  NetworkController controller("network", hw, bundle, data, own, unused, &choose);
  sc_core::sc_start();
  if (controller.error()) std::rethrow_exception(controller.error());
}

}  // namespace cimsim
