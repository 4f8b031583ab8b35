// NumPy arrays in and out of the simulator, checked as the command line checks its .npy files and
// with the same messages (naming the argument instead of a file).
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <Eigen/Core>
#include <string>

#include "core/int_matrix.h"
#include "io/npy.h"

namespace cimsim::python {

namespace py = pybind11;

// A 2-D integer array as an int32 matrix (a copy: the weights are programmed from it).
Eigen::MatrixXi weight_matrix(const py::array& a, const std::string& name);

// A 2-D integer array as a row-major int32 matrix: `a` itself when it is a C-contiguous int32
// array, else a converted copy held in `storage`.
Eigen::Map<const IntMatrix> input_matrix(const py::array& a, const std::string& name, IntMatrix& storage);

// Any numeric array as the .npy reader's record (dtype, shape, values in C order), for the checks
// that files and arrays share (data::dataset_of_arrays).
npy::Array npy_array(const py::array& a, const std::string& name);

}  // namespace cimsim::python
