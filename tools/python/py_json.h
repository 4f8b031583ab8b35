// JSON documents (the statistics records, a resolved config) as Python dicts, lists and scalars.
#pragma once

#include <pybind11/pybind11.h>

#include <nlohmann/json.hpp>

namespace cimsim::python {

pybind11::object to_python(const nlohmann::json& j);

}  // namespace cimsim::python
