# One image per component, same recipe:
#   docker build --build-arg COMPONENT=Signals -t ketenmesh/signals .
#   docker build --build-arg COMPONENT=Gateway --build-arg PROJECT_DIR=gateway -t ketenmesh/gateway .
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG COMPONENT
ARG PROJECT_DIR=services/${COMPONENT}
WORKDIR /src
COPY . .
RUN dotnet publish ${PROJECT_DIR}/Ketenmesh.${COMPONENT}.csproj -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
ARG COMPONENT
ENV KETENMESH_COMPONENT=${COMPONENT}
WORKDIR /app
COPY --from=build /app .
# Listens on all interfaces inside the container; the port comes from Service__Port.
ENV Service__BindAddress=0.0.0.0
# Keys (identity's signing keys, the gateway's audit checkpoint key) live here: mount a volume.
ENV Mesh__DataDirectory=/data
USER app
ENTRYPOINT ["sh", "-c", "exec dotnet Ketenmesh.${KETENMESH_COMPONENT}.dll"]
