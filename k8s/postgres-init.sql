-- One database per component: each service owns its data.
CREATE DATABASE ketenmesh_signals OWNER ketenmesh;
