"""The shared kernel: everything every alliance service needs and nothing specific to one."""
