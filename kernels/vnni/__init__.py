"""VNNI kernels (this project's design): I2_S codes fed to vpdpbusd without shifts."""
