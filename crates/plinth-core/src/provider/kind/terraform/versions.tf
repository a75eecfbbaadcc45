# Plinth's kind cluster module: one local cluster in Docker, with a first control plane node
# that takes the ingress ports, the extra nodes by role, and a set of worker nodes per node pool.
terraform {
  required_providers {
    kind = {
      source = "tehcyx/kind"
    }
  }
}
