# A stand-in for an OpenWrt SDK's include/package.mk: BuildPackage makes the
# targets tests/openwrt/golden.sh runs:
#   dump       the package's variables, NAME=VALUE
#   compile    Build/Prepare then Build/Compile
#   install    Package/NAME/install into $(IPKG_DIR)
#   conffiles  Package/NAME/conffiles
PKG_BUILD_DIR ?= $(BUILD_DIR)/$(PKG_NAME)-$(PKG_VERSION)
PKG_JOBS ?= -j1

define BuildPackage
$(eval $(Package/$(1)))
.PHONY: dump compile install conffiles
dump:
	@echo 'PKG_NAME=$(PKG_NAME)'
	@echo 'PKG_VERSION=$(PKG_VERSION)'
	@echo 'PKG_RELEASE=$(PKG_RELEASE)'
	@echo 'PKG_LICENSE=$(PKG_LICENSE)'
	@echo 'PKG_MAINTAINER=$(PKG_MAINTAINER)'
	@echo 'SECTION=$(SECTION)'
	@echo 'CATEGORY=$(CATEGORY)'
	@echo 'TITLE=$(TITLE)'
	@echo 'DEPENDS=$(strip $(DEPENDS))'
compile:
	$$(Build/Prepare)
	$$(Build/Compile)
install:
	$$(call Package/$(1)/install,$(IPKG_DIR))
conffiles:
	@printf '%s\n' $$(strip $$(Package/$(1)/conffiles))
endef
