-- One database per component: each service owns its data.
CREATE DATABASE ketenmesh_identity OWNER ketenmesh;
CREATE DATABASE ketenmesh_signals OWNER ketenmesh;
CREATE DATABASE ketenmesh_risk OWNER ketenmesh;
CREATE DATABASE ketenmesh_registry OWNER ketenmesh;
CREATE DATABASE ketenmesh_shelter OWNER ketenmesh;
CREATE DATABASE ketenmesh_returns OWNER ketenmesh;
CREATE DATABASE ketenmesh_policy OWNER ketenmesh;
CREATE DATABASE ketenmesh_gateway OWNER ketenmesh;
