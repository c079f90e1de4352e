# One image per component, same recipe: docker build --build-arg COMPONENT=Signals -t ketenmesh/signals .
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG COMPONENT
WORKDIR /src
COPY . .
RUN dotnet publish services/${COMPONENT}/Ketenmesh.${COMPONENT}.csproj -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
# Listens on all interfaces inside the container; the port comes from Service__Port.
ENV Service__BindAddress=0.0.0.0
USER app
ENTRYPOINT ["sh", "-c", "exec dotnet Ketenmesh.*.dll"]
