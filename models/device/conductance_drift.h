// Conductance drift of phase-change and some resistive cells: G(t) = G(t0) * (t / t0)^-nu
// (Ielmini et al., "Recovery and drift dynamics of resistance and threshold voltages in phase-change
// memories", IEEE TED 2007; aihwkit's PCM model uses nu around 0.05). Default nu = 0: no drift.
#pragma once

namespace cimsim {

struct ConductanceDrift {
  double nu = 0;
  double t = 1;   // seconds since programming at which the array is read
  double t0 = 1;  // seconds since programming at which G was measured

  double factor() const;  // (t / t0)^-nu
  double apply(double g) const { return g * factor(); }
};

}  // namespace cimsim
