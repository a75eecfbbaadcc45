output "name" {
  description = "The node pool's name."
  value       = google_container_node_pool.pool.name
}
